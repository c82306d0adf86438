import Foundation
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

    /// AutoInt's real shape (39 fields, head width 32, two heads) runs the kernels' fixed-width vector paths.
    @Test(arguments: [(16, 64, 2), (64, 64, 2), (8, 16, 2)])
    func multiHeadSelfAttentionMatchesReferenceAtModelShape(inputDimension: Int, attentionDimension: Int, heads: Int) {
        let batch = 2, fields = 39
        let layer = MultiHeadSelfAttention(
            name: "t", fields: fields, inputDimension: inputDimension, attentionDimension: attentionDimension,
            heads: heads, useResidual: true, useScale: false, maxBatch: batch)
        var generator = SeededGenerator(seed: 16)
        layer.projection.fillNormal(std: 0.25, using: &generator)
        let input = FloatBuffer(GradientCheck.normals(batch * fields * inputDimension, seed: 17))
        layer.forward(input: input.pointer, count: batch)
        let expected = Self.referenceAttention(layer, input: input, count: batch)
        var worst: Float = 0
        for i in expected.indices { worst = max(worst, abs(layer.output[i] - expected[i])) }
        #expect(worst < 1e-4)
    }

    /// Gradients at the model's field count and head widths 32 and 8. Inputs are shifted well above zero
    /// and the projections are small, so the residual keeps the outputs clear of ReLU's kink, and only
    /// every 7th output enters the loss: with thousands of outputs, some would otherwise cross the kink under
    /// a finite-difference step, and Float rounding of their sum would swamp the numeric gradient.
    @Test(arguments: [64, 16])
    func multiHeadSelfAttentionGradientsAtModelShape(attentionDimension: Int) {
        let batch = 2, fields = 39
        let layer = MultiHeadSelfAttention(
            name: "t", fields: fields, inputDimension: attentionDimension, attentionDimension: attentionDimension,
            heads: 2, useResidual: true, useScale: false, maxBatch: batch)
        var generator = SeededGenerator(seed: 19)
        layer.projection.fillNormal(std: 0.02, using: &generator)
        let input = FloatBuffer(GradientCheck.normals(batch * fields * attentionDimension, seed: 20).map { $0 + 5 })
        let weights = GradientCheck.normals(batch * fields * attentionDimension, seed: 21).enumerated().map {
            $0.offset % 7 == 0 ? $0.element : 0
        }
        let loss = {
            layer.forward(input: input.pointer, count: batch)
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        layer.projection.gradient.zero()
        weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, input: input.pointer, count: batch) }
        let dW = GradientCheck.maxError(values: layer.projection.value.pointer,
                                        indices: stride(from: 3, to: layer.projection.count, by: 37),
                                        analytic: { layer.projection.gradient[$0] }, loss: loss)
        let dX = GradientCheck.maxError(values: input.pointer, indices: stride(from: 1, to: input.count, by: 29),
                                        analytic: { layer.inputGradient[$0] }, loss: loss)
        #expect(dW < Self.tolerance)
        #expect(dX < Self.tolerance)
    }

    /// Self-attention written out with plain loops in Double, as the kernels' reference.
    static func referenceAttention(_ layer: MultiHeadSelfAttention, input: FloatBuffer, count: Int) -> [Float] {
        let f = layer.fields, n = layer.inputDimension, a = layer.attentionDimension
        let width = layer.projectionWidth, hd = layer.headDimension
        let w = layer.projection.value
        var result = [Float](repeating: 0, count: count * f * a)
        for b in 0..<count {
            var projected = [Double](repeating: 0, count: f * width)
            for i in 0..<f {
                for c in 0..<width {
                    var sum = 0.0
                    for k in 0..<n { sum += Double(input[(b * f + i) * n + k]) * Double(w[k * width + c]) }
                    projected[i * width + c] = sum
                }
            }
            for head in 0..<layer.heads {
                for i in 0..<f {
                    var scores = (0..<f).map { j in
                        (0..<hd).reduce(0.0) { $0 + projected[i * width + head * hd + $1] * projected[j * width + a + head * hd + $1] }
                    }
                    let maximum = scores.max()!
                    scores = scores.map { Foundation.exp($0 - maximum) }
                    let total = scores.reduce(0, +)
                    for c in 0..<hd {
                        var sum = 0.0
                        for j in 0..<f { sum += scores[j] / total * projected[j * width + 2 * a + head * hd + c] }
                        let residual = layer.hasResidualProjection
                            ? projected[i * width + 3 * a + head * hd + c]
                            : Double(input[(b * f + i) * n + head * hd + c])
                        result[(b * f + i) * a + head * hd + c] = Float(max(0, sum + residual))
                    }
                }
            }
        }
        return result
    }

    @Test func fieldEmbedding() {
        let batch = 4, vocabulary = 7, d = 3
        let layer = FieldEmbedding(vocabularySize: vocabulary, sparseFields: 2, denseFields: 2, dimension: d, maxBatch: batch)
        var generator = SeededGenerator(seed: 9)
        layer.table.fillNormal(std: 1, using: &generator)
        layer.denseEmbedding!.fillNormal(std: 1, using: &generator)
        // Id 3 repeats so accumulation across rows and fields is exercised.
        let ids: [Int64] = [3, 5, 3, 0, 6, 3, 1, 2]
        let dense = GradientCheck.normals(batch * 2, seed: 10)
        let weights = GradientCheck.normals(batch * 4 * d, seed: 11)
        let loss = {
            ModelInputs.withArrays(ids: ids, dense: dense) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        ModelInputs.withArrays(ids: ids, dense: dense) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) } }
        let dTable = GradientCheck.maxError(values: layer.table.value.pointer, indices: 0..<layer.table.value.count,
                                            analytic: { layer.table.gradient(ofRow: $0 / d)[$0 % d] }, loss: loss)
        let dDense = GradientCheck.maxError(values: layer.denseEmbedding!.value.pointer, indices: 0..<layer.denseEmbedding!.count,
                                            analytic: { layer.denseEmbedding!.gradient[$0] }, loss: loss)
        #expect(dTable < Self.tolerance)
        #expect(dDense < Self.tolerance)
        #expect(layer.table.touchedRows == [3, 5, 0, 6, 1, 2])
    }

    @Test func linearPart() {
        let batch = 3, vocabulary = 6
        let layer = LinearPart(vocabularySize: vocabulary, sparseFields: 2, denseFields: 3, maxBatch: batch)
        var generator = SeededGenerator(seed: 12)
        layer.table.fillNormal(std: 1, using: &generator)
        layer.denseWeight!.fillNormal(std: 1, using: &generator)
        layer.bias.value[0] = 0.4
        let ids: [Int64] = [1, 4, 4, 2, 0, 1]
        let dense = GradientCheck.normals(batch * 3, seed: 13)
        let weights = GradientCheck.normals(batch, seed: 14)
        let loss = {
            ModelInputs.withArrays(ids: ids, dense: dense) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        ModelInputs.withArrays(ids: ids, dense: dense) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) } }
        let dTable = GradientCheck.maxError(values: layer.table.value.pointer, indices: 0..<vocabulary,
                                            analytic: { layer.table.gradient(ofRow: $0)[0] }, loss: loss)
        let dDense = GradientCheck.maxError(values: layer.denseWeight!.value.pointer, indices: 0..<3,
                                            analytic: { layer.denseWeight!.gradient[$0] }, loss: loss)
        let dBias = GradientCheck.maxError(values: layer.bias.value.pointer, indices: 0..<1,
                                           analytic: { layer.bias.gradient[$0] }, loss: loss)
        #expect(dTable < Self.tolerance)
        #expect(dDense < Self.tolerance)
        #expect(dBias < Self.tolerance)
    }

    @Test func fieldEmbeddingWithBuckets() {
        let batch = 4, vocabulary = 5, d = 3
        let buckets = DenseBuckets(scales: [2, 3])
        let layer = FieldEmbedding(vocabularySize: vocabulary, sparseFields: 1, denseFields: 2, dimension: d,
                                   maxBatch: batch, buckets: buckets)
        #expect(layer.denseEmbedding == nil && layer.parameters.isEmpty)
        let bucketTable = try! #require(layer.bucketTable)
        var generator = SeededGenerator(seed: 15)
        layer.table.fillNormal(std: 1, using: &generator)
        bucketTable.fillNormal(std: 1, using: &generator)
        let ids: [Int64] = [1, 4, 1, 0]
        // Field 0 (scale 2): 0.5 -> value 1, missing, 0.5 again, above the largest; field 1 (scale 3): -1/3 -> -1, ...
        let dense: [Float] = [0.5, -1.0 / 3, -2, 1, 0.5, 0, 9, 2.0 / 3]
        let weights = GradientCheck.normals(batch * 3 * d, seed: 16)
        let loss = {
            ModelInputs.withArrays(ids: ids, dense: dense) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        // Row 0's dense vectors are exactly the looked-up bucket rows.
        #expect(Array(UnsafeBufferPointer(start: layer.output.pointer + d, count: d))
                == Array(UnsafeBufferPointer(start: bucketTable.row(buckets.row(field: 0, value: 0.5)), count: d)))
        ModelInputs.withArrays(ids: ids, dense: dense) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) } }
        let dTable = GradientCheck.maxError(values: layer.table.value.pointer, indices: 0..<layer.table.value.count,
                                            analytic: { layer.table.gradient(ofRow: $0 / d)[$0 % d] }, loss: loss)
        let dBuckets = GradientCheck.maxError(values: bucketTable.value.pointer, indices: 0..<bucketTable.value.count,
                                              analytic: { bucketTable.gradient(ofRow: $0 / d)[$0 % d] }, loss: loss)
        #expect(dTable < Self.tolerance)
        #expect(dBuckets < Self.tolerance)
        // Field 0 (rows 0-4): value 1 (row 3, twice), missing (row 0), clamped to 2 (row 4).
        // Field 1 (rows 5-10): -1 (row 6), 3 (row 10), 0 (row 7), 2 (row 9).
        #expect(bucketTable.touchedRows == [3, 6, 0, 10, 7, 4, 9])
    }

    @Test func linearPartWithBuckets() {
        let batch = 3, vocabulary = 4
        let buckets = DenseBuckets(scales: [1, 4])
        let layer = LinearPart(vocabularySize: vocabulary, sparseFields: 1, denseFields: 2, maxBatch: batch, buckets: buckets)
        #expect(layer.denseWeight == nil && layer.parameters.map(\.name) == ["linear_bias"])
        let bucketTable = try! #require(layer.bucketTable)
        var generator = SeededGenerator(seed: 17)
        layer.table.fillNormal(std: 1, using: &generator)
        bucketTable.fillNormal(std: 1, using: &generator)
        layer.bias.value[0] = -0.2
        let ids: [Int64] = [2, 0, 2]
        let dense: [Float] = [1, 0.25, -2, 0.75, 0, -2]
        let weights = GradientCheck.normals(batch, seed: 18)
        let loss = {
            ModelInputs.withArrays(ids: ids, dense: dense) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        let expected = -0.2 + layer.table.value[2] + bucketTable.value[buckets.row(field: 0, value: 1)]
            + bucketTable.value[buckets.row(field: 1, value: 0.25)]
        #expect(abs(layer.output[0] - expected) < 1e-6)
        ModelInputs.withArrays(ids: ids, dense: dense) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) } }
        let dBuckets = GradientCheck.maxError(values: bucketTable.value.pointer, indices: 0..<bucketTable.rows,
                                              analytic: { bucketTable.gradient(ofRow: $0)[0] }, loss: loss)
        let dBias = GradientCheck.maxError(values: layer.bias.value.pointer, indices: 0..<1,
                                           analytic: { layer.bias.gradient[$0] }, loss: loss)
        #expect(dBuckets < Self.tolerance)
        #expect(dBias < Self.tolerance)
    }
}
