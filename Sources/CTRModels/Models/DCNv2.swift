/// DCNv2 (Wang et al. 2021, FuxiCTR's `DCNv2` with `CrossNetV2`): a cross network over the flattened field
/// embeddings, `c₀ = x₀`, `c_{l+1} = c_l + x₀ ⊙ (c_l W_l + b_l)`, with a DNN stacked on it, beside it, both, or
/// none (`model_structure`), then one linear unit.
///
/// - `crossnetOnly`: logit = fc(c_L)
/// - `stacked`: logit = fc(DNN(c_L))
/// - `parallel` (FuxiCTR's default): logit = fc([c_L, DNN(x₀)])
/// - `stackedParallel`: logit = fc([DNN_s(c_L), DNN_p(x₀)])
/// DNNs are FuxiCTR's `MLP_Block` without an output unit (ReLU hidden layers, batch norm and dropout as configured).
/// FuxiCTR's low-rank mixture (`use_low_rank_mixture`) is not implemented.
public final class DCNv2: CTRModel {
    /// Where the DNN sits relative to the cross network (FuxiCTR's `model_structure`).
    public enum Structure: String, Codable, Sendable, CaseIterable {
        case crossnetOnly = "crossnet_only"
        case stacked
        case parallel
        case stackedParallel = "stacked_parallel"
    }

    public let architecture = ModelArchitecture.dcnv2
    public let hyperparameters: ModelHyperparameters
    public let shape: ModelShape
    public let maxBatch: Int
    public let logits: FloatBuffer
    public var threads = 1

    /// Field embeddings, flattened into x₀.
    public let embedding: FieldEmbedding
    /// Cross layers: each is `c_l W_l + b_l` (no activation).
    public let cross: [DenseLayer]
    /// The DNN on the cross network's output (stacked structures).
    public let stackedNetwork: [DenseLayer]
    /// The DNN on x₀ (parallel structures).
    public let parallelNetwork: [DenseLayer]
    /// The final unit over the concatenated outputs.
    public let outputLayer: DenseLayer
    /// Cross outputs c₁ ... c_L, each [maxBatch, width].
    private let crossOutputs: [FloatBuffer]
    /// The output layer's input: [maxBatch, finalWidth].
    private let finalInput: FloatBuffer
    private let crossGradient: FloatBuffer
    private let scaledGradient: FloatBuffer
    private let embeddingGradient: FloatBuffer
    private let finalGradient: FloatBuffer
    /// The parallel DNN's share of the final gradient in `stackedParallel`.
    private let rightGradient: FloatBuffer
    private let structure: Structure
    /// Width of x₀ (fields × embedding dimension).
    private let width: Int

    /// Builds a DCNv2 with weights drawn from `seed` (FuxiCTR's initialisers: Xavier-normal linears, zero biases).
    public init(shape: ModelShape, hyperparameters: ModelHyperparameters = .init(), maxBatch: Int, seed: UInt64) {
        self.shape = shape
        self.hyperparameters = hyperparameters
        self.maxBatch = maxBatch
        let d = hyperparameters.embeddingDimension
        let width = shape.fieldCount * d
        self.width = width
        structure = hyperparameters.crossStructure
        embedding = FieldEmbedding(vocabularySize: shape.vocabularySize, sparseFields: shape.sparseFields,
                                   denseFields: shape.denseFields, dimension: d, maxBatch: maxBatch,
                                   buckets: shape.denseBuckets, sequenceFields: shape.sequenceFields)
        cross = (0..<hyperparameters.crossLayers).map {
            DenseLayer(name: "cross\($0)", inputSize: width, outputSize: width, activation: .none, maxBatch: maxBatch)
        }
        crossOutputs = cross.map { _ in FloatBuffer(count: maxBatch * width) }
        let stacked = structure == .stacked || structure == .stackedParallel
        let parallel = structure == .parallel || structure == .stackedParallel
        stackedNetwork = stacked ? .hidden(name: "stacked_dnn", inputSize: width, hiddenUnits: hyperparameters.stackedHiddenUnits,
                                          maxBatch: maxBatch, batchNorm: hyperparameters.batchNorm,
                                          dropout: hyperparameters.netDropout, seed: seed) : []
        parallelNetwork = parallel ? .hidden(name: "parallel_dnn", inputSize: width, hiddenUnits: hyperparameters.hiddenUnits,
                                            maxBatch: maxBatch, batchNorm: hyperparameters.batchNorm,
                                            dropout: hyperparameters.netDropout, seed: seed &+ 1000) : []
        let stackedWidth = stackedNetwork.last?.outputSize ?? width
        let finalWidth = switch structure {
        case .crossnetOnly: width
        case .stacked: stackedWidth
        case .parallel: width + (parallelNetwork.last?.outputSize ?? width)
        case .stackedParallel: stackedWidth + (parallelNetwork.last?.outputSize ?? width)
        }
        outputLayer = DenseLayer(name: "output", inputSize: finalWidth, outputSize: 1, activation: .none, maxBatch: maxBatch)
        finalInput = FloatBuffer(count: maxBatch * finalWidth)
        finalGradient = FloatBuffer(count: maxBatch * finalWidth)
        rightGradient = FloatBuffer(count: structure == .stackedParallel ? maxBatch * finalWidth : 0)
        crossGradient = FloatBuffer(count: maxBatch * width)
        scaledGradient = FloatBuffer(count: maxBatch * width)
        embeddingGradient = FloatBuffer(count: maxBatch * width)
        logits = FloatBuffer(count: maxBatch)

        var generator = SeededGenerator(seed: seed)
        ModelInitializer.initialize(embedding, shape: shape, using: &generator)
        for layer in cross + stackedNetwork + parallelNetwork + [outputLayer] { layer.initialize(using: &generator) }
    }

    public var parameters: [Parameter] {
        embedding.parameters + (cross + stackedNetwork + parallelNetwork + [outputLayer]).flatMap(\.parameters)
    }

    public var embeddingTables: [EmbeddingTable] { embedding.tables }

    public var denseLayers: [DenseLayer] { cross + stackedNetwork + parallelNetwork + [outputLayer] }

    /// The cross network's output c_L (x₀ itself without cross layers).
    private var crossResult: UnsafePointer<Float> {
        UnsafePointer(crossOutputs.last?.pointer ?? embedding.output.pointer)
    }

    public func forward(_ inputs: ModelInputs, count: Int) {
        precondition(count <= maxBatch, "batch larger than the model's work buffers")
        embedding.forward(inputs, count: count)
        let x0 = embedding.output.pointer, n = count * width
        var c = UnsafePointer(x0)
        for (layer, output) in zip(cross, crossOutputs) {
            layer.forward(input: c, count: count)
            let z = layer.output.pointer, next = output.pointer
            for i in 0..<n { next[i] = c[i] + x0[i] * z[i] }
            c = UnsafePointer(next)
        }
        let final = finalInput.pointer
        switch structure {
        case .crossnetOnly:
            final.update(from: c, count: n)
        case .stacked:
            final.update(from: stackedNetwork.forward(input: c, count: count), count: count * outputLayer.inputSize)
        case .parallel:
            let deep = parallelNetwork.forward(input: x0, count: count)
            Self.concatenate(c, width, deep, outputLayer.inputSize - width, rows: count, into: final)
        case .stackedParallel:
            let left = stackedNetwork.forward(input: c, count: count), leftWidth = stackedNetwork.last?.outputSize ?? width
            let right = parallelNetwork.forward(input: x0, count: count)
            Self.concatenate(left, leftWidth, right, outputLayer.inputSize - leftWidth, rows: count, into: final)
        }
        outputLayer.forward(input: final, count: count)
        logits.pointer.update(from: outputLayer.output.pointer, count: count)
    }

    public func backward(logitGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        let x0 = embedding.output.pointer, n = count * width
        outputLayer.backward(outputGradient: logitGradient, input: finalInput.pointer, count: count)
        let dFinal = UnsafePointer(outputLayer.inputGradient.pointer)
        let dx0 = embeddingGradient.pointer, dc = crossGradient.pointer
        dx0.update(repeating: 0, count: n)
        // Split the final gradient into the cross output's and the parallel DNN's.
        switch structure {
        case .crossnetOnly:
            dc.update(from: dFinal, count: n)
        case .stacked:
            dc.update(from: stackedNetwork.backward(outputGradient: dFinal, input: crossResult, count: count), count: n)
        case .parallel:
            let deepWidth = outputLayer.inputSize - width
            let dDeep = finalGradient.pointer
            Self.split(dFinal, width, deepWidth, rows: count, left: dc, right: dDeep)
            let fromDeep = parallelNetwork.backward(outputGradient: dDeep, input: x0, count: count)
            for i in 0..<n { dx0[i] += fromDeep[i] }
        case .stackedParallel:
            let leftWidth = stackedNetwork.last?.outputSize ?? width, rightWidth = outputLayer.inputSize - leftWidth
            let dLeft = finalGradient.pointer, dRight = rightGradient.pointer
            Self.split(dFinal, leftWidth, rightWidth, rows: count, left: dLeft, right: dRight)
            let fromDeep = parallelNetwork.backward(outputGradient: dRight, input: x0, count: count)
            for i in 0..<n { dx0[i] += fromDeep[i] }
            dc.update(from: stackedNetwork.backward(outputGradient: dLeft, input: crossResult, count: count), count: n)
        }
        // Cross layers, last to first: c_{l+1} = c_l + x₀ ⊙ z_l with z_l = c_l W_l + b_l.
        let scaled = scaledGradient.pointer
        for index in cross.indices.reversed() {
            let layer = cross[index]
            let input = index == 0 ? UnsafePointer(x0) : UnsafePointer(crossOutputs[index - 1].pointer)
            let z = layer.output.pointer
            for i in 0..<n {
                scaled[i] = dc[i] * x0[i]
                dx0[i] += dc[i] * z[i]
            }
            layer.backward(outputGradient: scaled, input: input, count: count)
            let through = layer.inputGradient.pointer
            for i in 0..<n { dc[i] += through[i] }
        }
        // c₀ is x₀ itself.
        for i in 0..<n { dx0[i] += dc[i] }
        embedding.backward(outputGradient: dx0, inputs, count: count)
    }

    /// Row by row: `left`'s `leftWidth` columns, then `right`'s `rightWidth`.
    private static func concatenate(_ left: UnsafePointer<Float>, _ leftWidth: Int, _ right: UnsafePointer<Float>, _ rightWidth: Int,
                                    rows: Int, into output: UnsafeMutablePointer<Float>) {
        let total = leftWidth + rightWidth
        for row in 0..<rows {
            (output + row * total).update(from: left + row * leftWidth, count: leftWidth)
            (output + row * total + leftWidth).update(from: right + row * rightWidth, count: rightWidth)
        }
    }

    /// The inverse of ``concatenate``.
    private static func split(_ input: UnsafePointer<Float>, _ leftWidth: Int, _ rightWidth: Int, rows: Int,
                              left: UnsafeMutablePointer<Float>, right: UnsafeMutablePointer<Float>) {
        let total = leftWidth + rightWidth
        for row in 0..<rows {
            (left + row * leftWidth).update(from: input + row * total, count: leftWidth)
            (right + row * rightWidth).update(from: input + row * total + leftWidth, count: rightWidth)
        }
    }
}
