/// Predicts with a Swift model directly (tests, and checking an export against its source).
public struct SwiftModelPredictor: BatchPredictor {
    /// The model; batches larger than its `maxBatch` are split.
    public let model: any CTRModel

    /// Wraps `model`.
    public init(model: any CTRModel) { self.model = model }

    public func predict(_ batch: BatchBuffer, into probabilities: UnsafeMutablePointer<Float>) throws {
        var start = 0
        while start < batch.count {
            let n = min(model.maxBatch, batch.count - start)
            model.forward(batch.inputs(from: start), count: n)
            for i in 0..<n { probabilities[start + i] = Sigmoid.value(model.logits[i]) }
            start += n
        }
    }
}
