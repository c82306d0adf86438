extension FieldEmbedding {
    /// Gather for the ids, Unsqueeze·Mul for the dense values, Concat → [batch, fields, dimension].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let tableName = graph.initializer(
            table.name, dimensions: [table.rows, dimension],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let sparse = graph.node("Gather", [tableName, graph.sparseInput], attributes: [.int("axis", 0)])
        let axes = graph.constant("axes_2", int64s: [2])
        let column = graph.node("Unsqueeze", [graph.denseInput, axes])
        let vectors = graph.initializer(
            denseEmbedding.name, dimensions: [denseFields, dimension],
            values: UnsafeBufferPointer(start: denseEmbedding.value.pointer, count: denseEmbedding.count))
        let scaled = graph.node("Mul", [column, vectors])
        return graph.node("Concat", [sparse, scaled], attributes: [.int("axis", 1)])
    }
}
