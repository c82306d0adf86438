extension DeepFM {
    /// linear + FM + DNN(flattened embeddings).
    public func exportLogit(into graph: inout ONNXGraphBuilder) -> String {
        let embeddings = embedding.exportGraph(into: &graph)
        let linearTerm = linear.exportGraph(into: &graph)
        let fmTerm = factorizationMachine.exportGraph(into: &graph, input: embeddings)
        let flatShape = graph.constant("shape_flat", int64s: [-1, Int64(embedding.fieldCount * embedding.dimension)])
        var hidden = graph.node("Reshape", [embeddings, flatShape])
        for layer in network { hidden = layer.exportGraph(into: &graph, input: hidden) }
        let partial = graph.node("Add", [linearTerm, fmTerm])
        return graph.node("Add", [partial, hidden])
    }
}

extension AutoInt {
    /// Attention layers, flattened, one linear unit (+ linear part when wide, + DNN for AutoInt+).
    public func exportLogit(into graph: inout ONNXGraphBuilder) -> String {
        let embeddings = embedding.exportGraph(into: &graph)
        var hidden = embeddings
        for layer in attention { hidden = layer.exportGraph(into: &graph, input: hidden) }
        let flatShape = graph.constant("shape_flat", int64s: [-1, Int64(outputLayer.inputSize)])
        let flat = graph.node("Reshape", [hidden, flatShape])
        var logit = outputLayer.exportGraph(into: &graph, input: flat)
        if let linear { logit = graph.node("Add", [logit, linear.exportGraph(into: &graph)]) }
        if !network.isEmpty {
            let embeddingShape = graph.constant("shape_embeddings_flat", int64s: [-1, Int64(embedding.fieldCount * embedding.dimension)])
            var deep = graph.node("Reshape", [embeddings, embeddingShape])
            for layer in network { deep = layer.exportGraph(into: &graph, input: deep) }
            logit = graph.node("Add", [logit, deep])
        }
        return logit
    }
}

extension LogisticRegression {
    /// The linear part.
    public func exportLogit(into graph: inout ONNXGraphBuilder) -> String {
        linear.exportGraph(into: &graph)
    }
}

extension DCNv2 {
    /// Cross layers as Gemm, Mul by x₀ and Add; the DNNs as Gemm(+Relu) chains; Concat; one Gemm to the logit.
    public func exportLogit(into graph: inout ONNXGraphBuilder) -> String {
        let embeddings = embedding.exportGraph(into: &graph)
        let flatShape = graph.constant("shape_flat", int64s: [-1, Int64(embedding.fieldCount * embedding.dimension)])
        let x0 = graph.node("Reshape", [embeddings, flatShape])
        var c = x0
        for layer in cross {
            let z = layer.exportGraph(into: &graph, input: c)
            c = graph.node("Add", [c, graph.node("Mul", [x0, z])])
        }
        func chain(_ layers: [DenseLayer], _ input: String) -> String {
            var hidden = input
            for layer in layers { hidden = layer.exportGraph(into: &graph, input: hidden) }
            return hidden
        }
        let final: String
        switch hyperparameters.crossStructure {
        case .crossnetOnly: final = c
        case .stacked: final = chain(stackedNetwork, c)
        case .parallel: final = graph.node("Concat", [c, chain(parallelNetwork, x0)], attributes: [.int("axis", 1)])
        case .stackedParallel:
            final = graph.node("Concat", [chain(stackedNetwork, c), chain(parallelNetwork, x0)], attributes: [.int("axis", 1)])
        }
        return outputLayer.exportGraph(into: &graph, input: final)
    }
}
