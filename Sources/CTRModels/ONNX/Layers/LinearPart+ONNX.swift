extension LinearPart {
    /// Gather·ReduceSum for the ids; MatMul (numeric) or Gather·ReduceSum (buckets) for the dense values;
    /// masked sum pooling per sequence field; plus bias → [batch, 1].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        let weights = graph.initializer(
            table.name, dimensions: [table.rows, 1],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let axes = graph.constant("axes_1", int64s: [1])
        // A schema may lack categorical or numeric fields; their inputs are then absent from the graph.
        var terms: [String] = []
        if sparseFields > 0 {
            let gathered = graph.node("Gather", [weights, graph.sparseInput], attributes: [.int("axis", 0)])
            terms.append(graph.node("ReduceSum", [gathered, axes], attributes: [.int("keepdims", 0)]))
        }
        if denseFields == 0 {
        } else if let buckets, let bucketTable {
            let bucketWeights = graph.initializer(
                bucketTable.name, dimensions: [bucketTable.rows, 1],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            let picked = graph.node("Gather", [bucketWeights, buckets.exportRows(into: &graph)], attributes: [.int("axis", 0)])
            terms.append(graph.node("ReduceSum", [picked, axes], attributes: [.int("keepdims", 0)]))
        } else if let denseWeight {
            let denseWeights = graph.initializer(
                denseWeight.name, dimensions: [denseFields, 1],
                values: UnsafeBufferPointer(start: denseWeight.value.pointer, count: denseWeight.count))
            terms.append(graph.node("MatMul", [graph.denseInput, denseWeights]))
        }
        terms += pooling.exportPooled(table: weights, into: &graph)
        let biasName = graph.initializer(bias.name, dimensions: [1], values: [bias.value[0]])
        guard var sum = terms.first else { return biasName }
        for term in terms.dropFirst() { sum = graph.node("Add", [sum, term]) }
        return graph.node("Add", [sum, biasName])
    }
}
