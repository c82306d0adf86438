/// AutoInt (Song et al. 2019, FuxiCTR's formulation): self-attention layers over field embeddings,
/// flattened into one linear output unit; optionally plus the linear part (`useWide`) and a parallel
/// DNN over the flattened embeddings (`autoIntHiddenUnits`, AutoInt+).
public final class AutoInt: CTRModel {
    public let architecture = ModelArchitecture.autoint
    public let hyperparameters: ModelHyperparameters
    public let shape: ModelShape
    public let maxBatch: Int
    public let logits: FloatBuffer
    public var threads = 1 {
        didSet { for layer in attention { layer.threads = threads } }
    }

    /// Field embeddings.
    public let embedding: FieldEmbedding
    /// Interacting layers, first to last.
    public let attention: [MultiHeadSelfAttention]
    /// Flattened attention output → logit.
    public let outputLayer: DenseLayer
    /// First-order term, present when `useWide`.
    public let linear: LinearPart?
    /// AutoInt+'s DNN (ReLU hidden layers, then one unit); empty for plain AutoInt.
    public let network: [DenseLayer]
    private let embeddingGradient: FloatBuffer

    /// Builds an AutoInt with weights drawn from `seed` (FuxiCTR's initialisers).
    public init(shape: ModelShape, hyperparameters: ModelHyperparameters = .init(), maxBatch: Int, seed: UInt64) {
        self.shape = shape
        self.hyperparameters = hyperparameters
        self.maxBatch = maxBatch
        let d = hyperparameters.embeddingDimension
        let fields = shape.fieldCount
        embedding = FieldEmbedding(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                                   denseFields: shape.denseFields, dimension: d, maxBatch: maxBatch,
                                   buckets: shape.denseBuckets, sequenceFields: shape.sequenceFields)
        var layers: [MultiHeadSelfAttention] = []
        var width = d
        for index in 0..<hyperparameters.attentionLayers {
            layers.append(MultiHeadSelfAttention(
                name: "attention\(index)", fields: fields, inputDimension: width,
                attentionDimension: hyperparameters.attentionDimension, heads: hyperparameters.attentionHeads,
                useResidual: hyperparameters.useResidual, useScale: hyperparameters.useScale, maxBatch: maxBatch,
                layerNorm: hyperparameters.layerNorm))
            width = hyperparameters.attentionDimension
        }
        attention = layers
        outputLayer = DenseLayer(name: "output", inputSize: fields * width, outputSize: 1, activation: .none, maxBatch: maxBatch)
        linear = hyperparameters.useWide
            ? LinearPart(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                         denseFields: shape.denseFields, maxBatch: maxBatch, buckets: shape.denseBuckets,
                         sequenceFields: shape.sequenceFields)
            : nil
        network = hyperparameters.autoIntHiddenUnits.isEmpty
            ? [] : .perceptron(inputSize: fields * d, hiddenUnits: hyperparameters.autoIntHiddenUnits, maxBatch: maxBatch,
                               batchNorm: hyperparameters.batchNorm, dropout: hyperparameters.netDropout, seed: seed)
        embeddingGradient = FloatBuffer(count: network.isEmpty ? 0 : maxBatch * fields * d)
        logits = FloatBuffer(count: maxBatch)

        var generator = SeededGenerator(seed: seed)
        ModelInitializer.initialize(embedding, shape: shape, using: &generator)
        for layer in attention { layer.initialize(using: &generator) }
        outputLayer.initialize(using: &generator)
        if let linear { ModelInitializer.initialize(linear, shape: shape, using: &generator) }
        for layer in network { layer.initialize(using: &generator) }
    }

    public var parameters: [Parameter] {
        embedding.parameters + attention.flatMap(\.parameters) + [outputLayer.weight, outputLayer.bias]
            + (linear?.parameters ?? []) + network.flatMap(\.parameters)
    }

    public var embeddingTables: [EmbeddingTable] { embedding.tables + (linear?.tables ?? []) }

    public var denseLayers: [DenseLayer] { network }

    public func forward(_ inputs: ModelInputs, count: Int) {
        precondition(count <= maxBatch, "batch larger than the model's work buffers")
        embedding.forward(inputs, count: count)
        var input = UnsafePointer(embedding.output.pointer)
        for layer in attention {
            layer.forward(input: input, count: count)
            input = UnsafePointer(layer.output.pointer)
        }
        outputLayer.forward(input: input, count: count)
        for b in 0..<count { logits[b] = outputLayer.output[b] }
        if let linear {
            linear.forward(inputs, count: count)
            for b in 0..<count { logits[b] += linear.output[b] }
        }
        if !network.isEmpty {
            let deep = network.forward(input: embedding.output.pointer, count: count)
            for b in 0..<count { logits[b] += deep[b] }
        }
    }

    public func backward(logitGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        linear?.backward(outputGradient: logitGradient, inputs, count: count)
        let lastOutput = attention.last.map { UnsafePointer($0.output.pointer) } ?? UnsafePointer(embedding.output.pointer)
        outputLayer.backward(outputGradient: logitGradient, input: lastOutput, count: count)
        var gradient = UnsafePointer(outputLayer.inputGradient.pointer)
        for index in attention.indices.reversed() {
            let input = index == 0 ? UnsafePointer(embedding.output.pointer) : UnsafePointer(attention[index - 1].output.pointer)
            attention[index].backward(outputGradient: gradient, input: input, count: count)
            gradient = UnsafePointer(attention[index].inputGradient.pointer)
        }
        if !network.isEmpty {
            let dnnGradient = network.backward(outputGradient: logitGradient, input: embedding.output.pointer, count: count)
            // The embeddings feed both branches: their gradient is the sum.
            let total = count * embedding.fieldCount * embedding.dimension
            let target = embeddingGradient.pointer
            for i in 0..<total { target[i] = gradient[i] + dnnGradient[i] }
            gradient = UnsafePointer(target)
        }
        embedding.backward(outputGradient: gradient, inputs, count: count)
    }
}
