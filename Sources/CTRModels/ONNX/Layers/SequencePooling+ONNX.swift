extension SequencePooling {
    /// The float mask [batch, width] of the sequence input: 1 where an element is not its field's padding id.
    ///
    /// Equal against a per-column row of padding ids, Not, Cast; built once per graph.
    func exportMask(into graph: inout ONNXGraphBuilder) -> String {
        graph.shared("sequence_mask") { graph in
            var padding: [Int64] = []
            for field in fields { padding += Array(repeating: field.paddingID, count: field.length) }
            let paddingName = graph.constant("sequence_padding_ids", int64s: padding)
            let isPadding = graph.node("Equal", [graph.sequenceInput, paddingName])
            let keep = graph.node("Not", [isPadding])
            return graph.node("Cast", [keep], attributes: [.int("to", Int(ONNXGraphBuilder.ElementType.float.rawValue))])
        }
    }

    /// The int64 [1] constant `[1]` (the sequence-column axis), one per graph.
    func exportColumnAxis(into graph: inout ONNXGraphBuilder) -> String {
        graph.shared("sequence_axes_1") { $0.constant("axes_1", int64s: [1]) }
    }

    /// Field `s`'s columns [start, end) of a tensor whose axis 1 is the sequence columns.
    func exportSlice(field s: Int, of input: String, into graph: inout ONNXGraphBuilder) -> String {
        let starts = graph.shared("sequence_start_\(s)") { $0.constant("sequence_start_\(s)", int64s: [Int64(offsets[s])]) }
        let ends = graph.shared("sequence_end_\(s)") {
            $0.constant("sequence_end_\(s)", int64s: [Int64(offsets[s] + fields[s].length)])
        }
        return graph.node("Slice", [input, starts, ends, exportColumnAxis(into: &graph)])
    }

    /// Field `s`'s pooling denominator [batch, 1]: its non-padding count plus ε; built once per graph.
    func exportDenominator(field s: Int, into graph: inout ONNXGraphBuilder) -> String {
        graph.shared("sequence_denominator_\(s)") { graph in
            let mask = exportMask(into: &graph)
            let fieldMask = exportSlice(field: s, of: mask, into: &graph)
            let count = graph.node("ReduceSum", [fieldMask, exportColumnAxis(into: &graph)], attributes: [.int("keepdims", 1)])
            let epsilon = graph.shared("sequence_pooling_epsilon") {
                $0.constant("sequence_pooling_epsilon", float: SequenceField.poolingEpsilon)
            }
            return graph.node("Add", [count, epsilon])
        }
    }

    /// One pooled [batch, width of `table`] tensor per field: Gather·Mul(mask)·Slice·ReduceSum(·Div when averaging).
    ///
    /// `table` is an initializer [rows, width] (the shared embedding table or the linear weights).
    func exportPooled(table: String, into graph: inout ONNXGraphBuilder) -> [String] {
        guard !fields.isEmpty else { return [] }
        let gathered = graph.node("Gather", [table, graph.sequenceInput], attributes: [.int("axis", 0)])
        let mask = graph.shared("sequence_mask_column") { graph in
            let lastAxis = graph.constant("axes_2", int64s: [2])
            return graph.node("Unsqueeze", [exportMask(into: &graph), lastAxis])
        }
        // Padding rows are gathered too (the id is a valid row) and zeroed here, before any sum.
        let masked = graph.node("Mul", [gathered, mask])
        let axes = exportColumnAxis(into: &graph)
        var pooled: [String] = []
        for s in fields.indices {
            let columns = exportSlice(field: s, of: masked, into: &graph)
            let sum = graph.node("ReduceSum", [columns, axes], attributes: [.int("keepdims", 0)])
            pooled.append(average ? graph.node("Div", [sum, exportDenominator(field: s, into: &graph)]) : sum)
        }
        return pooled
    }
}
