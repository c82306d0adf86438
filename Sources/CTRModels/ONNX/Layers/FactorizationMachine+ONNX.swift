extension FactorizationMachine {
    /// ½ Σ_k [(Σ_f e)² − Σ_f e²] with ReduceSum/Mul/Sub on [batch, fields, dimension] → [batch, 1].
    func exportGraph(into graph: inout ONNXGraphBuilder, input: String) -> String {
        let fieldAxis = graph.constant("axes_1", int64s: [1])
        let sum = graph.node("ReduceSum", [input, fieldAxis], attributes: [.int("keepdims", 0)])
        let sumSquared = graph.node("Mul", [sum, sum])
        let squares = graph.node("Mul", [input, input])
        let squaresSum = graph.node("ReduceSum", [squares, fieldAxis], attributes: [.int("keepdims", 0)])
        let difference = graph.node("Sub", [sumSquared, squaresSum])
        let total = graph.node("ReduceSum", [difference, fieldAxis], attributes: [.int("keepdims", 1)])
        let half = graph.constant("half", float: 0.5)
        return graph.node("Mul", [total, half])
    }
}
