extension LinearPart {
    /// Gather·ReduceSum for the ids, MatMul for the dense values, plus bias → [batch, 1].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let weights = graph.initializer(
            table.name, dimensions: [table.rows, 1],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let gathered = graph.node("Gather", [weights, graph.sparseInput], attributes: [.int("axis", 0)])
        let axes = graph.constant("axes_1", int64s: [1])
        let sparseSum = graph.node("ReduceSum", [gathered, axes], attributes: [.int("keepdims", 0)])
        let denseWeights = graph.initializer(
            denseWeight.name, dimensions: [denseFields, 1],
            values: UnsafeBufferPointer(start: denseWeight.value.pointer, count: denseWeight.count))
        let denseSum = graph.node("MatMul", [graph.denseInput, denseWeights])
        let biasName = graph.initializer(bias.name, dimensions: [1], values: [bias.value[0]])
        let partial = graph.node("Add", [sparseSum, denseSum])
        return graph.node("Add", [partial, biasName])
    }
}
