extension DenseBuckets {
    /// The int64 [batch, denseFields] bucket-table rows of the dense input, as ``row(field:value:)`` computes them.
    ///
    /// Mul·Round·Max·Min·Add·Cast; built once per graph and shared by every layer that looks buckets up.
    func exportRows(into graph: inout ONNXGraphBuilder) -> String {
        graph.shared("dense_bucket_rows") { graph in
            let scaleName = graph.initializer("dense_bucket_scales", dimensions: [scales.count], values: scales)
            let scaled = graph.node("Mul", [graph.denseInput, scaleName])
            let rounded = graph.node("Round", [scaled])
            let lowest = graph.constant("dense_bucket_missing", float: Self.missingValue)
            let highest = graph.initializer("dense_bucket_max", dimensions: [maxValues.count], values: maxValues)
            let clamped = graph.node("Min", [graph.node("Max", [rounded, lowest]), highest])
            // Offsets are small integers, exact in float32; the sum is cast once.
            let starts = offsets.map { Float($0) - Self.missingValue }
            let startName = graph.initializer("dense_bucket_offsets", dimensions: [starts.count], values: starts)
            let rows = graph.node("Add", [clamped, startName])
            return graph.node("Cast", [rows], attributes: [.int("to", Int(ONNXGraphBuilder.ElementType.int64.rawValue))])
        }
    }
}
