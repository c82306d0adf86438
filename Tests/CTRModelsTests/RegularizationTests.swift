import Foundation
import Testing
@testable import CTRModels

/// Issue 22: FuxiCTR's regularization as Clickwise trains it — batch norm, dropout, the whole-table embedding
/// regularizer, gradient clipping, the learning-rate schedule — each checked against its definition, and exported
/// models with batch norm and dropout equal to the Swift forward pass in ONNX Runtime.
@Suite("Regularization (FuxiCTR's semantics)")
struct RegularizationTests {
    @Test(arguments: [DenseLayer.Activation.relu, .none])
    func batchNormGradientsMatchFiniteDifferences(activation: DenseLayer.Activation) {
        let batch = 6, inputSize = 4, outputSize = 5
        let layer = DenseLayer(name: "t", inputSize: inputSize, outputSize: outputSize, activation: activation, maxBatch: batch,
                               batchNorm: true)
        layer.isTraining = true
        var generator = SeededGenerator(seed: 11)
        layer.weight.fillNormal(std: 0.7, using: &generator)
        layer.bias.fillNormal(std: 0.3, using: &generator)
        let bn = try! #require(layer.batchNorm)
        bn.gamma.fillNormal(std: 1, using: &generator)
        bn.beta.fillNormal(std: 0.5, using: &generator)
        let input = FloatBuffer(GradientCheck.normals(batch * inputSize, seed: 12))
        let weights = GradientCheck.normals(batch * outputSize, seed: 13)
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        for parameter in layer.parameters { parameter.gradient.zero() }
        weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        for parameter in layer.parameters {
            let error = GradientCheck.maxError(values: parameter.value.pointer, indices: 0..<parameter.count,
                                               analytic: { parameter.gradient[$0] }, loss: loss)
            #expect(error < LayerGradientTests.tolerance, "\(parameter.name): \(error)")
        }
        let dX = GradientCheck.maxError(values: input.pointer, indices: 0..<input.count,
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dX < LayerGradientTests.tolerance)
    }

    /// AutoInt's `layer_norm`: residual sum → LayerNorm → ReLU; gradients of γ, β, the projections and the input.
    /// (Without the residual, four attention values per field can be nearly equal, where layer norm's curvature
    /// defeats finite differences: that case uses eight.)
    @Test(arguments: [(3, true, 4), (4, true, 4), (4, false, 8)])
    func attentionLayerNormGradientsMatchFiniteDifferences(inputDimension: Int, useResidual: Bool, attentionDimension: Int) {
        let batch = 3, fields = 5
        let layer = MultiHeadSelfAttention(
            name: "t", fields: fields, inputDimension: inputDimension, attentionDimension: attentionDimension,
            heads: 2, useResidual: useResidual, useScale: true, maxBatch: batch, layerNorm: true)
        var generator = SeededGenerator(seed: 51)
        for parameter in layer.parameters { parameter.fillNormal(std: 0.6, using: &generator) }
        let input = FloatBuffer(GradientCheck.normals(batch * fields * inputDimension, seed: 52))
        let weights = GradientCheck.normals(batch * fields * attentionDimension, seed: 53)
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        for parameter in layer.parameters { parameter.gradient.zero() }
        weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        for parameter in layer.parameters {
            let error = GradientCheck.maxError(values: parameter.value.pointer, indices: 0..<parameter.count,
                                               analytic: { parameter.gradient[$0] }, loss: loss)
            #expect(error < LayerGradientTests.tolerance, "\(parameter.name): \(error)")
        }
        let dX = GradientCheck.maxError(values: input.pointer, indices: 0..<input.count,
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dX < LayerGradientTests.tolerance)
    }

    @Test func batchNormMatchesPyTorchsDefinition() {
        // Two rows per column: mean and biased variance known by hand; running stats move by momentum 0.1.
        let bn = BatchNorm(name: "bn", width: 2, maxBatch: 2)
        let input: [Float] = [1, 10, 3, 30]  // column 0: 1, 3 (mean 2, var 1); column 1: 10, 30 (mean 20, var 100)
        var output = [Float](repeating: 0, count: 4)
        input.withUnsafeBufferPointer { bn.forward(input: $0.baseAddress!, output: &output, count: 2, training: true) }
        let scale0 = 1 / (1 + BatchNorm.epsilon).squareRoot(), scale1 = 10 / (100 + BatchNorm.epsilon).squareRoot()
        #expect(abs(output[0] + scale0) < 1e-6 && abs(output[2] - scale0) < 1e-6)
        #expect(abs(output[1] + scale1) < 1e-6 && abs(output[3] - scale1) < 1e-6)
        #expect(abs(bn.runningMean[0] - 0.2) < 1e-6 && abs(bn.runningMean[1] - 2) < 1e-6)
        // Unbiased: 2 and 200; 0.9 · 1 + 0.1 · that.
        #expect(abs(bn.runningVariance[0] - 1.1) < 1e-6 && abs(bn.runningVariance[1] - 20.9) < 1e-4)
    }

    @Test func foldedBatchNormEqualsInference() {
        let layer = DenseLayer(name: "t", inputSize: 3, outputSize: 4, activation: .relu, maxBatch: 8, batchNorm: true)
        var generator = SeededGenerator(seed: 21)
        layer.weight.fillNormal(std: 0.7, using: &generator)
        layer.bias.fillNormal(std: 0.3, using: &generator)
        let bn = layer.batchNorm!
        bn.gamma.fillNormal(std: 1, using: &generator)
        bn.beta.fillNormal(std: 0.5, using: &generator)
        for j in 0..<4 {
            bn.runningMean[j] = Float(generator.nextNormal())
            bn.runningVariance[j] = Float(0.1 + generator.nextUnit() * 3)
        }
        let input = GradientCheck.normals(8 * 3, seed: 22)
        input.withUnsafeBufferPointer { layer.forward(input: $0.baseAddress!, count: 8) }
        let (w, b) = layer.foldedAffine()
        for row in 0..<8 {
            for j in 0..<4 {
                var z = b[j]
                for i in 0..<3 { z += input[row * 3 + i] * w[i * 4 + j] }
                #expect(abs(max(z, 0) - layer.output[row * 4 + j]) < 1e-5)
            }
        }
    }

    @Test func dropoutZeroesAndRescalesWhileTrainingOnly() {
        let batch = 200, inputSize = 3, outputSize = 50, p: Float = 0.3
        let plain = DenseLayer(name: "a", inputSize: inputSize, outputSize: outputSize, activation: .none, maxBatch: batch)
        let dropped = DenseLayer(name: "b", inputSize: inputSize, outputSize: outputSize, activation: .none, maxBatch: batch,
                                 dropout: p, seed: 5)
        var generator = SeededGenerator(seed: 31)
        plain.weight.fillNormal(std: 1, using: &generator)
        dropped.weight.value.copy(from: plain.weight.value)
        let input = FloatBuffer(GradientCheck.normals(batch * inputSize, seed: 32))
        plain.forward(input: input.pointer, count: batch)
        dropped.forward(input: input.pointer, count: batch)
        #expect(dropped.output.array == plain.output.array, "inference: dropout is the identity")

        dropped.isTraining = true
        dropped.forward(input: input.pointer, count: batch)
        var zeros = 0
        for i in 0..<(batch * outputSize) {
            if dropped.output[i] == 0 { zeros += 1; continue }
            #expect(abs(dropped.output[i] - plain.output[i] / (1 - p)) < 1e-5)
        }
        let share = Double(zeros) / Double(batch * outputSize)
        #expect(abs(share - Double(p)) < 0.02, "dropped \(share)")

        // Backward: the gradient flows through kept units only, scaled like their values.
        let upstream = GradientCheck.normals(batch * outputSize, seed: 33)
        let masked = (0..<upstream.count).map { dropped.output[$0] == 0 ? Float(0) : upstream[$0] / (1 - p) }
        for layer in [plain, dropped] { for parameter in layer.parameters { parameter.gradient.zero() } }
        upstream.withUnsafeBufferPointer { dropped.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        masked.withUnsafeBufferPointer { plain.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        for i in 0..<(batch * inputSize) { #expect(abs(dropped.inputGradient[i] - plain.inputGradient[i]) < 1e-4) }
    }

    /// Models with batch norm (running statistics set away from 0 and 1), dropout and (AutoInt+) layer norm export
    /// to ONNX with the Swift inference forward pass's outputs.
    @Test(arguments: ["deepfm", "autoint+", "dcnv2"])
    func exportWithBatchNormAndDropoutMatchesORT(variant: String) throws {
        var hyperparameters = ModelHyperparameters()
        hyperparameters.batchNorm = true
        hyperparameters.netDropout = 0.2
        hyperparameters.hiddenUnits = [64, 32]
        if variant == "autoint+" {
            hyperparameters.attentionLayers = 2
            hyperparameters.attentionDimension = 16
            hyperparameters.autoIntHiddenUnits = [32, 16]
            hyperparameters.layerNorm = true  // BARS' AutoInt+ configs all set layer_norm
            hyperparameters.useScale = true
        }
        if variant == "dcnv2" {
            hyperparameters.crossStructure = .stackedParallel
            hyperparameters.stackedHiddenUnits = [24]
            hyperparameters.crossLayers = 2
        }
        let architecture: ModelArchitecture = variant == "deepfm" ? .deepfm : variant == "dcnv2" ? .dcnv2 : .autoint
        let model = architecture.makeModel(shape: ONNXExportTests.shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        ONNXExportTests.spreadWeights(model)
        var generator = SeededGenerator(seed: 41)
        // Normalization scales around 1 and shifts around 0, as trained ones are, so the output still varies.
        if let dcn = model as? DCNv2 {
            for i in 0..<dcn.outputLayer.weight.count { dcn.outputLayer.weight.value[i] *= 5 }
        }
        if let autoint = model as? AutoInt {
            for layer in autoint.attention {
                guard let norm = layer.layerNorm else { continue }
                for k in 0..<norm.gamma.count {
                    norm.gamma.value[k] = Float(1 + generator.nextNormal() * 0.3)
                    norm.beta.value[k] = Float(generator.nextNormal() * 0.3)
                }
            }
        }
        for layer in model.denseLayers {
            guard let bn = layer.batchNorm else { continue }
            for j in 0..<bn.width {
                bn.runningMean[j] = Float(generator.nextNormal() * 0.5)
                bn.runningVariance[j] = Float(0.2 + generator.nextUnit() * 2)
            }
        }
        #expect(model.stateBuffers.count == 2 * (architecture == .autoint ? hyperparameters.autoIntHiddenUnits.count
                                                  : hyperparameters.hiddenUnits.count + (architecture == .dcnv2 ? 1 : 0)))
        try ONNXExportTests.check(model, spread: false)
    }

    @Test func wholeTableEmbeddingRegularizerShrinksUntouchedRowsAndClippingBoundsTheStep() {
        let model = ModelArchitecture.lr.makeModel(shape: ModelShape(vocabularySize: 50, sparseFields: 2, denseFields: 0),
                                                   maxBatch: 4, seed: 1)
        let table = model.embeddingTables[0]
        for i in 0..<table.value.count { table.value[i] = 1 }
        // Only row 3 has a batch gradient; the regularizer moves every row.
        let regularized = AdamOptimizer(configuration: .init(learningRate: 0.01, embeddingL2: 0, embeddingRegularizer: 0.1))
        table.gradientRow(3)[0] = 5
        regularized.apply(to: model)
        #expect(table.value[10] < 1 && abs(table.value[10] - 0.99) < 1e-4, "Adam's first step moves by lr: \(table.value[10])")
        let lazy = ModelArchitecture.lr.makeModel(shape: ModelShape(vocabularySize: 50, sparseFields: 2, denseFields: 0), maxBatch: 4, seed: 1)
        for i in 0..<lazy.embeddingTables[0].value.count { lazy.embeddingTables[0].value[i] = 1 }
        lazy.embeddingTables[0].gradientRow(3)[0] = 5
        AdamOptimizer(configuration: .init(learningRate: 0.01, embeddingL2: 0.1)).apply(to: lazy)
        #expect(lazy.embeddingTables[0].value[10] == 1, "the lazy form leaves unused rows alone")

        // Clipping scales every gradient by the same factor; Adam's first step is sign-like, so compare the
        // second moment the clipped gradient left: g² (1 - β2) with g = 10 · 1000 / norm.
        let clipped = ModelArchitecture.lr.makeModel(shape: ModelShape(vocabularySize: 50, sparseFields: 2, denseFields: 0), maxBatch: 4, seed: 1)
        clipped.embeddingTables[0].gradientRow(0)[0] = 1000
        let optimizer = AdamOptimizer(configuration: .init(learningRate: 0.01, embeddingL2: 0, maxGradientNorm: 10))
        optimizer.apply(to: clipped)
        let v = clipped.embeddingTables[0].secondMoment[0]
        #expect(abs(v - 100 * 0.001) < 1e-3, "second moment \(v)")
    }

    @Test func learningRateDropsTenfoldNotBelowTheFloor() {
        let optimizer = AdamOptimizer(configuration: .init(learningRate: 1e-3))
        #expect(abs(optimizer.reduceLearningRate() - 1e-4) < 1e-10)
        for _ in 0..<5 { optimizer.reduceLearningRate() }
        #expect(optimizer.learningRate == 1e-6)
    }

    @Test func monitorsScoreAsFuxiCTRWritesThem() {
        #expect(TrainingMonitor.auc.score(auc: 0.8, logLoss: 0.4) == 0.8)
        #expect(TrainingMonitor.logLoss.score(auc: 0.8, logLoss: 0.4) == -0.4)
        #expect(abs(TrainingMonitor(aucWeight: 1, logLossWeight: -1).score(auc: 0.8, logLoss: 0.4) - 0.4) < 1e-12)
        #expect(TrainingMonitor.auc.score(auc: nil, logLoss: 0.4) == -0.4)
    }
}
