extension LinearPart {
    /// The whole first-order term → [batch, 1].
    func exportGraph(into graph: inout ONNXGraphBuilder) -> String {
        exportTerms(into: &graph, fields: nil, bias: true)!
    }

    /// Gather·ReduceSum for the ids; MatMul (numeric) or Gather·ReduceSum (buckets) for the dense values;
    /// masked sum pooling per sequence field; plus bias → [batch, 1]. For every field, or those of one ranking
    /// side (read from the graph's current inputs) with or without the bias: nil when that leaves no term.
    func exportTerms(into graph: inout ONNXGraphBuilder, fields subset: ONNXFieldSubset?, bias withBias: Bool) -> String? {
        let fields = subset ?? .all(categorical: sparseFields, numeric: denseFields, sequences: pooling.fields.count)
        let weights = graph.sharedWeight(
            table.name, dimensions: [table.rows, 1],
            values: UnsafeBufferPointer(start: table.value.pointer, count: table.value.count))
        let axes = graph.constant("axes_1", int64s: [1])
        // A schema may lack categorical or numeric fields; their inputs are then absent from the graph.
        var terms: [String] = []
        if !fields.categorical.isEmpty {
            let gathered = graph.node("Gather", [weights, graph.sparseInput], attributes: [.int("axis", 0)])
            terms.append(graph.node("ReduceSum", [gathered, axes], attributes: [.int("keepdims", 0)]))
        }
        if fields.numeric.isEmpty {
        } else if let buckets, let bucketTable {
            let bucketWeights = graph.sharedWeight(
                bucketTable.name, dimensions: [bucketTable.rows, 1],
                values: UnsafeBufferPointer(start: bucketTable.value.pointer, count: bucketTable.value.count))
            let picked = graph.node("Gather", [bucketWeights, buckets.subset(fields.numeric).exportRows(into: &graph)], attributes: [.int("axis", 0)])
            terms.append(graph.node("ReduceSum", [picked, axes], attributes: [.int("keepdims", 0)]))
        } else if let denseWeight {
            let all = UnsafeBufferPointer(start: denseWeight.value.pointer, count: denseWeight.count)
            let denseWeights: String
            if fields.numeric.count == denseFields {
                denseWeights = graph.sharedWeight(denseWeight.name, dimensions: [denseFields, 1], values: all)
            } else {
                denseWeights = graph.initializer("\(denseWeight.name)_\(graph.side)", dimensions: [fields.numeric.count, 1],
                                                 values: fields.numeric.map { all[$0] })
            }
            terms.append(graph.node("MatMul", [graph.denseInput, denseWeights]))
        }
        if !fields.sequences.isEmpty {
            let side = SequencePooling(fields: fields.sequences.map { pooling.fields[$0] }, average: pooling.average)
            terms += side.exportPooled(table: weights, into: &graph)
        }
        var sum = terms.first
        for term in terms.dropFirst() { sum = graph.node("Add", [sum!, term]) }
        guard withBias else { return sum }
        let biasName = graph.sharedWeight(bias.name, dimensions: [1], values: UnsafeBufferPointer(start: bias.value.pointer, count: 1))
        guard let sum else { return biasName }
        return graph.node("Add", [sum, biasName])
    }
}
