extension FieldEmbedding {
    /// Gather for the ids; Unsqueeze·Mul (numeric) or a bucket Gather for the dense values; masked mean pooling
    /// for the sequences; Concat → [batch, fields, dimension], for every field or those of one ranking side
    /// (read from the graph's current inputs, in `fields`' order).
    func exportGraph(into graph: inout ONNXGraphBuilder, fields subset: ONNXFieldSubset? = nil) -> String {
        let fields = subset ?? .all(categorical: sparseFields, numeric: denseFields, sequences: pooling.fields.count)
        let tableName = graph.sharedWeight(
            table.name, dimensions: [table.rows, dimension],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        // A schema may lack categorical or numeric fields; their inputs are then absent from the graph.
        var parts: [String] = []
        if !fields.categorical.isEmpty {
            parts.append(graph.node("Gather", [tableName, graph.sparseInput], attributes: [.int("axis", 0)]))
        }
        if fields.numeric.isEmpty {
        } else if let buckets, let bucketTable {
            let bucketName = graph.sharedWeight(
                bucketTable.name, dimensions: [bucketTable.rows, dimension],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            let rows = buckets.subset(fields.numeric).exportRows(into: &graph)
            parts.append(graph.node("Gather", [bucketName, rows], attributes: [.int("axis", 0)]))
        } else if let denseEmbedding {
            let axes = graph.constant("axes_2", int64s: [2])
            let column = graph.node("Unsqueeze", [graph.denseInput, axes])
            let all = UnsafeBufferPointer(start: denseEmbedding.value.pointer, count: denseEmbedding.count)
            let vectors: String
            if fields.numeric.count == denseFields {
                vectors = graph.sharedWeight(denseEmbedding.name, dimensions: [denseFields, dimension], values: all)
            } else {
                let rows = fields.numeric.flatMap { all[($0 * dimension)..<(($0 + 1) * dimension)] }
                vectors = graph.initializer("\(denseEmbedding.name)_\(graph.side)", dimensions: [fields.numeric.count, dimension], values: rows)
            }
            parts.append(graph.node("Mul", [column, vectors]))
        }
        if !fields.sequences.isEmpty {
            let fieldAxis = graph.constant("axes_1", int64s: [1])
            let side = SequencePooling(fields: fields.sequences.map { pooling.fields[$0] }, average: pooling.average)
            for pooled in side.exportPooled(table: tableName, into: &graph) {
                parts.append(graph.node("Unsqueeze", [pooled, fieldAxis]))
            }
        }
        return parts.count == 1 ? parts[0] : graph.node("Concat", parts, attributes: [.int("axis", 1)])
    }
}
