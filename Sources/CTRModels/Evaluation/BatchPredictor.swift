/// Anything that turns an encoded batch into click probabilities: ONNX Runtime in the CLI, a Swift model in tests.
public protocol BatchPredictor {
    /// Writes `batch.count` probabilities to `probabilities`.
    func predict(_ batch: BatchBuffer, into probabilities: UnsafeMutablePointer<Float>) throws
}
