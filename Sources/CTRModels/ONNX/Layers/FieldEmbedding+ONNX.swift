extension FieldEmbedding {
    /// Gather for the ids; Unsqueeze·Mul (numeric) or a bucket Gather for the dense values; masked mean pooling
    /// for the sequences; Concat → [batch, fields, dimension].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let tableName = graph.initializer(
            table.name, dimensions: [table.rows, dimension],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        // A schema may lack categorical or numeric fields; their inputs are then absent from the graph.
        var parts: [String] = []
        if sparseFields > 0 {
            parts.append(graph.node("Gather", [tableName, graph.sparseInput], attributes: [.int("axis", 0)]))
        }
        if denseFields == 0 {
        } else if let buckets, let bucketTable {
            let bucketName = graph.initializer(
                bucketTable.name, dimensions: [bucketTable.rows, dimension],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            parts.append(graph.node("Gather", [bucketName, buckets.exportRows(into: &graph)], attributes: [.int("axis", 0)]))
        } else if let denseEmbedding {
            let axes = graph.constant("axes_2", int64s: [2])
            let column = graph.node("Unsqueeze", [graph.denseInput, axes])
            let vectors = graph.initializer(
                denseEmbedding.name, dimensions: [denseFields, dimension],
                values: UnsafeBufferPointer(start: denseEmbedding.value.pointer, count: denseEmbedding.count))
            parts.append(graph.node("Mul", [column, vectors]))
        }
        if !pooling.fields.isEmpty {
            let fieldAxis = graph.constant("axes_1", int64s: [1])
            for pooled in pooling.exportPooled(table: tableName, into: &graph) {
                parts.append(graph.node("Unsqueeze", [pooled, fieldAxis]))
            }
        }
        return parts.count == 1 ? parts[0] : graph.node("Concat", parts, attributes: [.int("axis", 1)])
    }
}
