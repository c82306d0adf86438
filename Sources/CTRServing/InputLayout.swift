import CTRFeatures
import ONNXRuntime

/// Which of a job's buffers feed a model's inputs, in the model's input order, and the one `Run` call.
///
/// Bundles trained here take up to three inputs (categorical ids, numeric values, sequence ids); an
/// input with no fields is absent from the model, so its buffer is skipped.
public struct InputLayout: Sendable {
    /// A job buffer.
    public enum Part: Sendable { case ids, dense, sequences }

    /// The parts in the model's input order.
    public let parts: [Part]
    /// Categorical ids a row.
    public let sparseWidth: Int
    /// Numeric values a row.
    public let denseWidth: Int
    /// Sequence ids a row.
    public let sequenceWidth: Int

    /// The layout of a signature written by ``ModelSignature/init(map:)``.
    public init(signature: ModelSignature) {
        var parts: [Part] = []
        var widths = (0, 0, 0)
        for input in signature.inputs {
            switch input.role {
            case .categoricalIDs: parts.append(.ids); widths.0 = input.width
            case .numericValues: parts.append(.dense); widths.1 = input.width
            case .sequenceIDs: parts.append(.sequences); widths.2 = input.width
            case .probability: break
            }
        }
        self.parts = parts
        (sparseWidth, denseWidth, sequenceWidth) = widths
    }

    /// Runs `rows` rows through `session`; returns the error instead of throwing (the caller fans it out to jobs).
    func run(_ session: ORTSession, ids: UnsafeMutableBufferPointer<Int64>, dense: UnsafeMutableBufferPointer<Float>,
             sequences: UnsafeMutableBufferPointer<Int64>, output: UnsafeMutableBufferPointer<Float>, rows: Int) -> ORTError? {
        let n = Int64(rows)
        do {
            try withUnsafeTemporaryAllocation(of: ORTTensorView.self, capacity: 4) { (buffer) throws(ORTError) in
                let outputView = ORTTensorView(output, shape: [n, 1])
                buffer.initialize(repeating: outputView)
                for (index, part) in parts.enumerated() {
                    switch part {
                    case .ids: buffer[index] = ORTTensorView(ids, shape: [n, Int64(sparseWidth)])
                    case .dense: buffer[index] = ORTTensorView(dense, shape: [n, Int64(denseWidth)])
                    case .sequences: buffer[index] = ORTTensorView(sequences, shape: [n, Int64(sequenceWidth)])
                    }
                }
                buffer[parts.count] = outputView
                try session.run(inputs: UnsafeBufferPointer(rebasing: buffer[0..<parts.count]),
                                outputs: UnsafeBufferPointer(rebasing: buffer[parts.count..<(parts.count + 1)]))
            }
            return nil
        } catch {
            return error
        }
    }
}
