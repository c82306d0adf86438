extension LinearPart {
    /// Gather·ReduceSum for the ids; MatMul (numeric) or Gather·ReduceSum (buckets) for the dense values;
    /// masked mean pooling per sequence field; plus bias → [batch, 1].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let weights = graph.initializer(
            table.name, dimensions: [table.rows, 1],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let gathered = graph.node("Gather", [weights, graph.sparseInput], attributes: [.int("axis", 0)])
        let axes = graph.constant("axes_1", int64s: [1])
        var sum = graph.node("ReduceSum", [gathered, axes], attributes: [.int("keepdims", 0)])
        if let buckets, let bucketTable {
            let bucketWeights = graph.initializer(
                bucketTable.name, dimensions: [bucketTable.rows, 1],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            let picked = graph.node("Gather", [bucketWeights, buckets.exportRows(into: &graph)], attributes: [.int("axis", 0)])
            let denseSum = graph.node("ReduceSum", [picked, axes], attributes: [.int("keepdims", 0)])
            sum = graph.node("Add", [sum, denseSum])
        } else if let denseWeight {
            let denseWeights = graph.initializer(
                denseWeight.name, dimensions: [denseFields, 1],
                values: UnsafeBufferPointer(start: denseWeight.value.pointer, count: denseWeight.count))
            sum = graph.node("Add", [sum, graph.node("MatMul", [graph.denseInput, denseWeights])])
        }
        for pooled in pooling.exportPooled(table: weights, into: &graph) { sum = graph.node("Add", [sum, pooled]) }
        let biasName = graph.initializer(bias.name, dimensions: [1], values: [bias.value[0]])
        return graph.node("Add", [sum, biasName])
    }
}
