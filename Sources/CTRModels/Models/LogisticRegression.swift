/// Logistic regression over the same inputs: the linear part alone (the baseline).
public final class LogisticRegression: CTRModel {
    public let architecture = ModelArchitecture.lr
    public let hyperparameters: ModelHyperparameters
    public let shape: ModelShape
    public let maxBatch: Int
    public let logits: FloatBuffer
    public var threads = 1

    /// The whole model.
    public let linear: LinearPart

    /// Builds the model with weights drawn from `seed`.
    public init(shape: ModelShape, hyperparameters: ModelHyperparameters = .init(), maxBatch: Int, seed: UInt64) {
        self.shape = shape
        self.hyperparameters = hyperparameters
        self.maxBatch = maxBatch
        linear = LinearPart(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                            denseFields: shape.denseFields, maxBatch: maxBatch, buckets: shape.denseBuckets,
                            sequenceFields: shape.sequenceFields)
        logits = FloatBuffer(count: maxBatch)
        var generator = SeededGenerator(seed: seed)
        ModelInitializer.initialize(linear, shape: shape, using: &generator)
    }

    public var parameters: [Parameter] { linear.parameters }
    public var embeddingTables: [EmbeddingTable] { linear.tables }

    public func forward(_ inputs: ModelInputs, count: Int) {
        precondition(count <= maxBatch, "batch larger than the model's work buffers")
        linear.forward(inputs, count: count)
        logits.pointer.update(from: linear.output.pointer, count: count)
    }

    public func backward(logitGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        linear.backward(outputGradient: logitGradient, inputs, count: count)
    }
}
