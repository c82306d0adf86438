import CTRFeatures
import ONNXRuntime

/// Which of a job's buffers feed a model's inputs, in the model's input order, and the one `Run` call.
///
/// A job holds a row-major buffer per kind (categorical ids, numeric values, sequence ids). Bundles trained
/// here take each buffer whole as one input (an input with no fields is absent), so it is passed without a
/// copy. Bundles imported from FuxiCTR take one input per feature: each input is a column range of one
/// buffer, gathered into its own contiguous tensor before the run.
public struct InputLayout: Sendable {
    /// A job buffer.
    public enum Part: Sendable { case ids, dense, sequences }

    /// One model input: the columns of a part it takes, and its shape after the batch dimension.
    struct Input: Sendable {
        var part: Part
        var firstColumn: Int
        var width: Int
        var innerShape: [Int64]
    }

    /// The parts in the model's input order.
    public let parts: [Part]
    /// Categorical ids a row.
    public let sparseWidth: Int
    /// Numeric values a row.
    public let denseWidth: Int
    /// Sequence ids a row.
    public let sequenceWidth: Int
    let inputs: [Input]
    /// Whether every input is a whole part (no gathering).
    let direct: Bool

    /// The layout of `signature`: inputs of one role take consecutive columns of that role's part, in order.
    public init(signature: ModelSignature) {
        var parts: [Part] = []
        var inputs: [Input] = []
        var widths = (0, 0, 0)
        for input in signature.inputs {
            let part: Part
            let start: Int
            switch input.role {
            case .categoricalIDs: part = .ids; start = widths.0; widths.0 += input.width
            case .numericValues: part = .dense; start = widths.1; widths.1 += input.width
            case .sequenceIDs: part = .sequences; start = widths.2; widths.2 += input.width
            case .probability: continue
            }
            parts.append(part)
            inputs.append(Input(part: part, firstColumn: start, width: input.width, innerShape: input.shape.dropFirst().map(Int64.init)))
        }
        self.parts = parts
        self.inputs = inputs
        (sparseWidth, denseWidth, sequenceWidth) = widths
        let whole = [Part.ids: widths.0, .dense: widths.1, .sequences: widths.2]
        direct = inputs.allSatisfy { $0.firstColumn == 0 && $0.width == whole[$0.part] && $0.innerShape == [Int64($0.width)] }
    }

    /// Runs `rows` rows through `session`; returns the error instead of throwing (the caller fans it out to jobs).
    ///
    /// The one way encoded rows reach a CTR bundle's model: the server's inference threads, and every command
    /// that predicts in-process (evaluate, bench ceiling), call it. Each buffer holds `rows` rows of its part's
    /// width (an empty part may be any buffer: it is not passed).
    public func run(_ session: ORTSession, ids: UnsafeMutableBufferPointer<Int64>, dense: UnsafeMutableBufferPointer<Float>,
             sequences: UnsafeMutableBufferPointer<Int64>, output: UnsafeMutableBufferPointer<Float>, rows: Int) -> ORTError? {
        let n = Int64(rows)
        do {
            try withUnsafeTemporaryAllocation(of: ORTTensorView.self, capacity: inputs.count + 1) { (buffer) throws(ORTError) in
                let outputView = ORTTensorView(output, shape: [n, 1])
                buffer.initialize(repeating: outputView)
                if direct {
                    for (index, part) in parts.enumerated() {
                        switch part {
                        case .ids: buffer[index] = ORTTensorView(ids, shape: [n, Int64(sparseWidth)])
                        case .dense: buffer[index] = ORTTensorView(dense, shape: [n, Int64(denseWidth)])
                        case .sequences: buffer[index] = ORTTensorView(sequences, shape: [n, Int64(sequenceWidth)])
                        }
                    }
                    try Self.run(session, buffer)
                    return
                }
                // Per-feature inputs: gather each input's columns into one contiguous block of scratch.
                try withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, rows * (sparseWidth + sequenceWidth))) {
                    (integers) throws(ORTError) in
                    try withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows * denseWidth)) { (floats) throws(ORTError) in
                        // Each input's block of scratch, in input order, then filled by the one gather.
                        var nextInteger = 0, nextFloat = 0
                        let blocks = inputs.map { input -> UnsafeMutableRawBufferPointer in
                            let count = rows * input.width
                            if input.part == .dense {
                                defer { nextFloat += count }
                                return UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: floats[nextFloat..<(nextFloat + count)]))
                            }
                            defer { nextInteger += count }
                            return UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: integers[nextInteger..<(nextInteger + count)]))
                        }
                        gather(ids: ids, dense: dense, sequences: sequences, rows: rows, into: blocks)
                        for (index, (input, block)) in zip(inputs, blocks).enumerated() {
                            let shape = ORTShape([n] + input.innerShape)
                            buffer[index] = input.part == .dense
                                ? ORTTensorView(block.bindMemory(to: Float.self), shape: shape)
                                : ORTTensorView(block.bindMemory(to: Int64.self), shape: shape)
                        }
                        try Self.run(session, buffer)
                    }
                }
            }
            return nil
        } catch {
            return error
        }
    }

    /// ``run(_:ids:dense:sequences:output:rows:)`` on row-major buffers of this layout's widths (`rows` rows each).
    public func run(_ session: ORTSession, rows: Int, ids: UnsafeMutablePointer<Int64>, dense: UnsafeMutablePointer<Float>,
                    sequences: UnsafeMutablePointer<Int64>, output: UnsafeMutablePointer<Float>) -> ORTError? {
        run(session, ids: UnsafeMutableBufferPointer(start: ids, count: rows * sparseWidth),
            dense: UnsafeMutableBufferPointer(start: dense, count: rows * denseWidth),
            sequences: UnsafeMutableBufferPointer(start: sequences, count: rows * sequenceWidth),
            output: UnsafeMutableBufferPointer(start: output, count: rows), rows: rows)
    }

    /// Copies each input's columns of the row-major buffers into `destinations` (model order, each exactly
    /// `rows` rows of the input): how a per-feature model's job is filled from encoded rows.
    func gather(ids: UnsafeMutableBufferPointer<Int64>, dense: UnsafeMutableBufferPointer<Float>,
                sequences: UnsafeMutableBufferPointer<Int64>, rows: Int, into destinations: [UnsafeMutableRawBufferPointer]) {
        precondition(destinations.count == inputs.count, "one destination per model input")
        for (input, destination) in zip(inputs, destinations) {
            precondition(destination.count >= rows * input.width * (input.part == .dense ? 4 : 8), "a destination holds the input's rows")
            switch input.part {
            case .ids, .sequences:
                let block = UnsafeMutableBufferPointer(start: destination.baseAddress!.assumingMemoryBound(to: Int64.self), count: rows * input.width)
                Self.gather(input.part == .ids ? ids : sequences, stride: input.part == .ids ? sparseWidth : sequenceWidth,
                            first: input.firstColumn, width: input.width, rows: rows, into: block)
            case .dense:
                let block = UnsafeMutableBufferPointer(start: destination.baseAddress!.assumingMemoryBound(to: Float.self), count: rows * input.width)
                Self.gather(dense, stride: denseWidth, first: input.firstColumn, width: input.width, rows: rows, into: block)
            }
        }
    }

    /// Runs with `views` holding the inputs followed by the output.
    private static func run(_ session: ORTSession, _ views: UnsafeMutableBufferPointer<ORTTensorView>) throws(ORTError) {
        let inputs = views.count - 1
        try session.run(inputs: UnsafeBufferPointer(rebasing: views[0..<inputs]),
                        outputs: UnsafeBufferPointer(rebasing: views[inputs..<views.count]))
    }

    /// Copies columns `first..<first + width` of each row of a row-major buffer of `stride` columns, row by row.
    private static func gather<T>(_ source: UnsafeMutableBufferPointer<T>, stride: Int, first: Int, width: Int, rows: Int,
                                  into destination: UnsafeMutableBufferPointer<T>) {
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        for row in 0..<rows {
            (to + row * width).update(from: from + row * stride + first, count: width)
        }
    }

    /// Checks that `session` takes exactly the inputs features.json's signature lists, in order, with its types and
    /// widths, and gives one float per row: anything else would be served as wrong numbers.
    public static func checkSignature(of session: ORTSession, map: FeatureMap, path: String) throws(ServingError) {
        let expected = map.signature.inputs
        let inputs = session.inputs
        func describe(_ tensors: [ModelSignature.Tensor]) -> String {
            tensors.map { "\($0.name) \($0.elementType.rawValue) \($0.shape)" }.joined(separator: ", ")
        }
        guard inputs.map(\.name) == expected.map(\.name) else {
            throw ServingError(.modelLoad, "\(path) takes inputs \(inputs.map(\.name)); features.json expects \(describe(expected))")
        }
        for (input, tensor) in zip(inputs, expected) {
            let type: ORTElementType = tensor.elementType == .int64 ? .int64 : .float
            let inner = tensor.shape.dropFirst().map(Int64.init)
            guard input.elementType == type, input.shape.count == tensor.shape.count, Array(input.shape.dropFirst()) == inner else {
                throw ServingError(.modelLoad, "\(path) input \(input.name) is \(input); features.json expects \(describe([tensor]))")
            }
        }
        guard let output = session.outputs.first, output.name == map.outputName, output.elementType == .float,
              output.shape.count == 2, output.shape[1] == 1 else {
            throw ServingError(.modelLoad, "\(path) output is \(session.outputs); features.json expects \(map.outputName) FP32 [-1, 1]")
        }
        let recorded = session.metadata.custom["feature_map_fingerprint"] ?? ""
        guard recorded.isEmpty || recorded == map.fingerprint else {
            throw ServingError(.modelLoad,
                "\(path) was exported for feature map \(recorded), but features.json next to it has fingerprint \(map.fingerprint): the model and its vocabulary do not belong together")
        }
    }
}
