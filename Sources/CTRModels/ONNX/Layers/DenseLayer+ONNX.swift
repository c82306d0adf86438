extension DenseLayer {
    /// Gemm (+ Relu) on a [batch, inputSize] tensor → [batch, outputSize].
    func exportGraph(into graph: inout ONNXGraphBuilder, input: String) -> String {
        let w = graph.initializer(
            weight.name, dimensions: [inputSize, outputSize],
            values: UnsafeBufferPointer(start: weight.value.pointer, count: weight.count))
        let b = graph.initializer(
            bias.name, dimensions: [outputSize],
            values: UnsafeBufferPointer(start: bias.value.pointer, count: bias.count))
        let affine = graph.node("Gemm", [input, w, b])
        return activation == .relu ? graph.node("Relu", [affine]) : affine
    }
}
