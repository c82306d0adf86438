import Testing
@testable import CTRModels

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    static let tolerance = 2e-2

    @Test(arguments: [DenseLayer.Activation.relu, .none])
    func denseLayer(activation: DenseLayer.Activation) {
        let batch = 3, inputSize = 4, outputSize = 5
        let layer = DenseLayer(name: "t", inputSize: inputSize, outputSize: outputSize, activation: activation, maxBatch: batch)
        var generator = SeededGenerator(seed: 1)
        layer.weight.fillNormal(std: 0.7, using: &generator)
        layer.bias.fillNormal(std: 0.3, using: &generator)
        let input = FloatBuffer(GradientCheck.normals(batch * inputSize, seed: 2))
        let weights = GradientCheck.normals(batch * outputSize, seed: 3)
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        layer.weight.gradient.zero(); layer.bias.gradient.zero()
        weights.withUnsafeBufferPointer {
            layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch)
        }
        let dW = GradientCheck.maxError(values: layer.weight.value.pointer, indices: 0..<layer.weight.count,
                                        analytic: { layer.weight.gradient[$0] }, loss: loss)
        let dB = GradientCheck.maxError(values: layer.bias.value.pointer, indices: 0..<outputSize,
                                        analytic: { layer.bias.gradient[$0] }, loss: loss)
        let dX = GradientCheck.maxError(values: input.pointer, indices: 0..<input.count,
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dW < Self.tolerance)
        #expect(dB < Self.tolerance)
        #expect(dX < Self.tolerance)
    }

    @Test func factorizationMachine() {
        let batch = 3, fields = 4, d = 3
        let layer = FactorizationMachine(fields: fields, dimension: d, maxBatch: batch)
        let input = FloatBuffer(GradientCheck.normals(batch * fields * d, seed: 4))
        let weights = GradientCheck.normals(batch, seed: 5)
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        let dX = GradientCheck.maxError(values: input.pointer, indices: 0..<input.count,
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dX < Self.tolerance)
    }

    @Test func factorizationMachineValue() {
        // Two fields [1, 2] and [3, 4]: the FM term is their dot product, 11.
        let layer = FactorizationMachine(fields: 2, dimension: 2, maxBatch: 1)
        let input = FloatBuffer([1, 2, 3, 4])
        layer.forward(input: input.pointer, count: 1)
        #expect(abs(layer.output[0] - 11) < 1e-6)
    }

    @Test(arguments: [(3, true, false), (4, true, true), (3, false, true), (4, true, false)])
    func multiHeadSelfAttention(inputDimension: Int, useResidual: Bool, useScale: Bool) {
        let batch = 3, fields = 5, attentionDimension = 4
        let layer = MultiHeadSelfAttention(
            name: "t", fields: fields, inputDimension: inputDimension, attentionDimension: attentionDimension,
            heads: 2, useResidual: useResidual, useScale: useScale, maxBatch: batch)
        layer.threads = 2
        var generator = SeededGenerator(seed: 6)
        layer.projection.fillNormal(std: 0.6, using: &generator)
        let input = FloatBuffer(GradientCheck.normals(batch * fields * inputDimension, seed: 7))
        let weights = GradientCheck.normals(batch * fields * attentionDimension, seed: 8)
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        layer.projection.gradient.zero()
        weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        let dW = GradientCheck.maxError(values: layer.projection.value.pointer, indices: 0..<layer.projection.count,
                                        analytic: { layer.projection.gradient[$0] }, loss: loss)
        let dX = GradientCheck.maxError(values: input.pointer, indices: 0..<input.count,
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dW < Self.tolerance)
        #expect(dX < Self.tolerance)
    }

    @Test func fieldEmbedding() {
        let batch = 4, vocabulary = 7, d = 3
        let layer = FieldEmbedding(vocabularySize: vocabulary, sparseFields: 2, denseFields: 2, dimension: d, maxBatch: batch)
        var generator = SeededGenerator(seed: 9)
        layer.table.fillNormal(std: 1, using: &generator)
        layer.denseEmbedding.fillNormal(std: 1, using: &generator)
        // Id 3 repeats so accumulation across rows and fields is exercised.
        let ids: [Int64] = [3, 5, 3, 0, 6, 3, 1, 2]
        let dense = GradientCheck.normals(batch * 2, seed: 10)
        let weights = GradientCheck.normals(batch * 4 * d, seed: 11)
        let loss = {
            ids.withUnsafeBufferPointer { i in dense.withUnsafeBufferPointer { x in
                layer.forward(ids: i.baseAddress!, dense: x.baseAddress!, count: batch) } }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        ids.withUnsafeBufferPointer { i in dense.withUnsafeBufferPointer { x in weights.withUnsafeBufferPointer { g in
            layer.backward(outputGradient: g.baseAddress!, ids: i.baseAddress!, dense: x.baseAddress!, count: batch) } } }
        let dTable = GradientCheck.maxError(values: layer.table.value.pointer, indices: 0..<layer.table.value.count,
                                            analytic: { layer.table.gradient(ofRow: $0 / d)[$0 % d] }, loss: loss)
        let dDense = GradientCheck.maxError(values: layer.denseEmbedding.value.pointer, indices: 0..<layer.denseEmbedding.count,
                                            analytic: { layer.denseEmbedding.gradient[$0] }, loss: loss)
        #expect(dTable < Self.tolerance)
        #expect(dDense < Self.tolerance)
        #expect(layer.table.touchedRows == [3, 5, 0, 6, 1, 2])
    }

    @Test func linearPart() {
        let batch = 3, vocabulary = 6
        let layer = LinearPart(vocabularySize: vocabulary, sparseFields: 2, denseFields: 3, maxBatch: batch)
        var generator = SeededGenerator(seed: 12)
        layer.table.fillNormal(std: 1, using: &generator)
        layer.denseWeight.fillNormal(std: 1, using: &generator)
        layer.bias.value[0] = 0.4
        let ids: [Int64] = [1, 4, 4, 2, 0, 1]
        let dense = GradientCheck.normals(batch * 3, seed: 13)
        let weights = GradientCheck.normals(batch, seed: 14)
        let loss = {
            ids.withUnsafeBufferPointer { i in dense.withUnsafeBufferPointer { x in
                layer.forward(ids: i.baseAddress!, dense: x.baseAddress!, count: batch) } }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        ids.withUnsafeBufferPointer { i in dense.withUnsafeBufferPointer { x in weights.withUnsafeBufferPointer { g in
            layer.backward(outputGradient: g.baseAddress!, ids: i.baseAddress!, dense: x.baseAddress!, count: batch) } } }
        let dTable = GradientCheck.maxError(values: layer.table.value.pointer, indices: 0..<vocabulary,
                                            analytic: { layer.table.gradient(ofRow: $0)[0] }, loss: loss)
        let dDense = GradientCheck.maxError(values: layer.denseWeight.value.pointer, indices: 0..<3,
                                            analytic: { layer.denseWeight.gradient[$0] }, loss: loss)
        let dBias = GradientCheck.maxError(values: layer.bias.value.pointer, indices: 0..<1,
                                           analytic: { layer.bias.gradient[$0] }, loss: loss)
        #expect(dTable < Self.tolerance)
        #expect(dDense < Self.tolerance)
        #expect(dBias < Self.tolerance)
    }
}
