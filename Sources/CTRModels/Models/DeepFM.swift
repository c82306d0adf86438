/// DeepFM (Guo et al. 2017, FuxiCTR's formulation): σ(linear + FM + DNN(flattened embeddings)).
public final class DeepFM: CTRModel {
    public let architecture = ModelArchitecture.deepfm
    public let hyperparameters: ModelHyperparameters
    public let shape: ModelShape
    public let maxBatch: Int
    public let logits: FloatBuffer
    public var threads = 1

    /// Field embeddings shared by FM and DNN.
    public let embedding: FieldEmbedding
    /// First-order term.
    public let linear: LinearPart
    /// Second-order term.
    public let factorizationMachine: FactorizationMachine
    /// Hidden layers (ReLU) then the one-unit output layer.
    public let network: [DenseLayer]
    private let embeddingGradient: FloatBuffer

    /// Builds a DeepFM with weights drawn from `seed` (FuxiCTR's initialisers).
    public init(shape: ModelShape, hyperparameters: ModelHyperparameters = .init(), maxBatch: Int, seed: UInt64) {
        self.shape = shape
        self.hyperparameters = hyperparameters
        self.maxBatch = maxBatch
        let d = hyperparameters.embeddingDimension
        let fields = shape.fieldCount
        embedding = FieldEmbedding(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                                   denseFields: shape.denseFields, dimension: d, maxBatch: maxBatch,
                                   buckets: shape.denseBuckets, sequenceFields: shape.sequenceFields)
        linear = LinearPart(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                            denseFields: shape.denseFields, maxBatch: maxBatch, buckets: shape.denseBuckets,
                            sequenceFields: shape.sequenceFields)
        factorizationMachine = FactorizationMachine(fields: fields, dimension: d, maxBatch: maxBatch)
        network = .perceptron(inputSize: fields * d, hiddenUnits: hyperparameters.hiddenUnits, maxBatch: maxBatch,
                              batchNorm: hyperparameters.batchNorm, dropout: hyperparameters.netDropout, seed: seed)
        logits = FloatBuffer(count: maxBatch)
        embeddingGradient = FloatBuffer(count: maxBatch * fields * d)

        var generator = SeededGenerator(seed: seed)
        ModelInitializer.initialize(embedding, shape: shape, using: &generator)
        ModelInitializer.initialize(linear, shape: shape, using: &generator)
        for layer in network { layer.initialize(using: &generator) }
    }

    public var parameters: [Parameter] {
        embedding.parameters + linear.parameters + network.flatMap(\.parameters)
    }

    public var embeddingTables: [EmbeddingTable] { embedding.tables + linear.tables }

    public var denseLayers: [DenseLayer] { network }

    public func forward(_ inputs: ModelInputs, count: Int) {
        precondition(count <= maxBatch, "batch larger than the model's work buffers")
        embedding.forward(inputs, count: count)
        linear.forward(inputs, count: count)
        factorizationMachine.forward(input: embedding.output.pointer, count: count)
        let deep = network.forward(input: embedding.output.pointer, count: count)
        for b in 0..<count { logits[b] = linear.output[b] + factorizationMachine.output[b] + deep[b] }
    }

    public func backward(logitGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        linear.backward(outputGradient: logitGradient, inputs, count: count)
        factorizationMachine.backward(outputGradient: logitGradient, input: embedding.output.pointer, count: count)
        let gradient = network.backward(outputGradient: logitGradient, input: embedding.output.pointer, count: count)
        let total = count * embedding.fieldCount * embedding.dimension
        let target = embeddingGradient.pointer, fm = factorizationMachine.inputGradient.pointer
        for i in 0..<total { target[i] = fm[i] + gradient[i] }
        embedding.backward(outputGradient: target, inputs, count: count)
    }
}
