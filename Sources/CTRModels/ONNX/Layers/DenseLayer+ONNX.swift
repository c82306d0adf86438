extension DenseLayer {
    /// Gemm (+ Relu) on a [batch, inputSize] tensor → [batch, outputSize]; batch normalization is folded into the
    /// Gemm's weights (one node instead of a Gemm and a BatchNormalization: docs/BENCHMARKS.md), dropout is gone.
    func exportGraph(into graph: inout ONNXGraphBuilder, input: String) -> String {
        let (weights, biases) = foldedAffine()
        let w = graph.initializer(weight.name, dimensions: [inputSize, outputSize], values: weights)
        let b = graph.initializer(bias.name, dimensions: [outputSize], values: biases)
        let affine = graph.node("Gemm", [input, w, b])
        return activation == .relu ? graph.node("Relu", [affine]) : affine
    }
}
