extension FieldEmbedding {
    /// Gather for the ids; Unsqueeze·Mul (numeric) or a bucket Gather for the dense values; Concat → [batch, fields, dimension].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let tableName = graph.initializer(
            table.name, dimensions: [table.rows, dimension],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let sparse = graph.node("Gather", [tableName, graph.sparseInput], attributes: [.int("axis", 0)])
        let denseVectors: String
        if let buckets, let bucketTable {
            let bucketName = graph.initializer(
                bucketTable.name, dimensions: [bucketTable.rows, dimension],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            denseVectors = graph.node("Gather", [bucketName, buckets.exportRows(into: &graph)], attributes: [.int("axis", 0)])
        } else if let denseEmbedding {
            let axes = graph.constant("axes_2", int64s: [2])
            let column = graph.node("Unsqueeze", [graph.denseInput, axes])
            let vectors = graph.initializer(
                denseEmbedding.name, dimensions: [denseFields, dimension],
                values: UnsafeBufferPointer(start: denseEmbedding.value.pointer, count: denseEmbedding.count))
            denseVectors = graph.node("Mul", [column, vectors])
        } else {
            return sparse
        }
        return graph.node("Concat", [sparse, denseVectors], attributes: [.int("axis", 1)])
    }
}
