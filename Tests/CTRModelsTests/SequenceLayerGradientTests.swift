import Testing
@testable import CTRModels

@Suite("Pooled sequence fields: masked means (embeddings) and sums (linear part) and their gradients match finite differences")
struct SequenceLayerGradientTests {
    static let tolerance = 2e-2
    /// Two fields over a 12-row table: length 4 padded with 0, length 3 padded with 11.
    static let fields = [SequenceField(length: 4, paddingID: 0), SequenceField(length: 3, paddingID: 11)]
    /// Four rows of sparse ids (never a padding id, so a padding row's gradient must stay untouched).
    static let ids: [Int64] = [3, 5, 3, 1, 6, 3, 2, 9]
    /// Row 0: both full, with a repeat (3) shared with the sparse ids. Row 1: partly padded (pre and post).
    /// Row 2: all padding. Row 3: first field all padding, second full.
    static let sequences: [Int64] = [
        3, 7, 3, 4, /**/ 8, 9, 10,
        0, 0, 5, 2, /**/ 11, 6, 11,
        0, 0, 0, 0, /**/ 11, 11, 11,
        0, 0, 0, 0, /**/ 1, 1, 10,
    ]

    @Test(arguments: DenseEncoding.allCases)
    func fieldEmbedding(encoding: DenseEncoding) throws {
        let batch = 4, d = 3
        let layer = FieldEmbedding(vocabularySize: 12, sparseFields: 2, denseFields: 2, dimension: d, maxBatch: batch,
                                   buckets: encoding == .buckets ? DenseBuckets(scales: [2, 3]) : nil,
                                   sequenceFields: Self.fields)
        #expect(layer.fieldCount == 6)
        var generator = SeededGenerator(seed: 31)
        for table in layer.tables { table.fillNormal(std: 1, using: &generator) }
        layer.denseEmbedding?.fillNormal(std: 1, using: &generator)
        let dense: [Float] = [0.5, -1.0 / 3, -2, 1, 0.5, 0, 9, 2.0 / 3]
        let weights = GradientCheck.normals(batch * 6 * d, seed: 32)
        let loss = {
            ModelInputs.withArrays(ids: Self.ids, dense: dense, sequences: Self.sequences) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        func pooled(row: Int, field: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: layer.output.pointer + (row * 6 + 4 + field) * d, count: d))
        }
        func mean(_ rows: [Int]) -> [Float] {
            (0..<d).map { k in rows.reduce(Float(0)) { $0 + layer.table.row($1)[k] } / Float(rows.count) }
        }
        for (actual, expected) in zip(pooled(row: 0, field: 0) + pooled(row: 1, field: 0) + pooled(row: 1, field: 1),
                                      mean([3, 7, 3, 4]) + mean([5, 2]) + mean([6])) {
            #expect(abs(actual - expected) < 1e-6)
        }
        // All padding pools to exactly zero (ε keeps 0/0 away), not NaN.
        #expect(pooled(row: 2, field: 0) + pooled(row: 2, field: 1) + pooled(row: 3, field: 0) == [Float](repeating: 0, count: 3 * d))

        ModelInputs.withArrays(ids: Self.ids, dense: dense, sequences: Self.sequences) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) }
        }
        for table in layer.tables {
            let error = GradientCheck.maxError(values: table.value.pointer, indices: 0..<table.value.count,
                                               analytic: { table.gradient(ofRow: $0 / d)[$0 % d] }, loss: loss)
            #expect(error < Self.tolerance, "\(table.name)")
        }
        if let denseEmbedding = layer.denseEmbedding {
            let error = GradientCheck.maxError(values: denseEmbedding.value.pointer, indices: 0..<denseEmbedding.count,
                                               analytic: { denseEmbedding.gradient[$0] }, loss: loss)
            #expect(error < Self.tolerance)
        }
        // Padding elements are masked: their rows get no gradient at all.
        #expect(!layer.table.touchedRows.contains(0) && !layer.table.touchedRows.contains(11))
    }

    @Test(arguments: DenseEncoding.allCases)
    func linearPart(encoding: DenseEncoding) {
        let batch = 4
        let layer = LinearPart(vocabularySize: 12, sparseFields: 2, denseFields: 2, maxBatch: batch,
                               buckets: encoding == .buckets ? DenseBuckets(scales: [2, 3]) : nil, sequenceFields: Self.fields)
        var generator = SeededGenerator(seed: 33)
        for table in layer.tables { table.fillNormal(std: 1, using: &generator) }
        layer.denseWeight?.fillNormal(std: 1, using: &generator)
        layer.bias.value[0] = 0.3
        let dense: [Float] = [1, 0.25, -2, 0.75, 0, -2, 0.5, 0.5]
        let weights = GradientCheck.normals(batch, seed: 34)
        let loss = {
            ModelInputs.withArrays(ids: Self.ids, dense: dense, sequences: Self.sequences) { layer.forward($0, count: batch) }
            return GradientCheck.weightedSum(layer.output.pointer, weights)
        }
        _ = loss()
        let w = layer.table.value
        func denseTerm(_ b: Int) -> Float {
            if let buckets = layer.buckets, let bucketTable = layer.bucketTable {
                return (0..<2).reduce(0) { $0 + bucketTable.value[buckets.row(field: $1, value: dense[b * 2 + $1])] }
            }
            return (0..<2).reduce(0) { $0 + layer.denseWeight!.value[$1] * dense[b * 2 + $1] }
        }
        // Row 1 adds the sums of (5, 2) and (6) (FuxiCTR sum-pools one-wide sequence embeddings); row 2 has no
        // sequence elements, so only bias, ids and dense remain.
        #expect(abs(layer.output[1] - (0.3 + w[3] + w[1] + denseTerm(1) + (w[5] + w[2]) + w[6])) < 1e-5)
        #expect(abs(layer.output[2] - (0.3 + w[6] + w[3] + denseTerm(2))) < 1e-5)

        ModelInputs.withArrays(ids: Self.ids, dense: dense, sequences: Self.sequences) { inputs in
            weights.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputs, count: batch) }
        }
        for table in layer.tables {
            let error = GradientCheck.maxError(values: table.value.pointer, indices: 0..<table.value.count,
                                               analytic: { table.gradient(ofRow: $0)[0] }, loss: loss)
            #expect(error < Self.tolerance, "\(table.name)")
        }
        for parameter in layer.parameters {
            let error = GradientCheck.maxError(values: parameter.value.pointer, indices: 0..<parameter.count,
                                               analytic: { parameter.gradient[$0] }, loss: loss)
            #expect(error < Self.tolerance, "\(parameter.name)")
        }
        // Id 7 appears once, in row 0's first field of four elements: the weight itself (a sum, not a mean).
        #expect(abs(layer.table.gradient(ofRow: 7)[0] - weights[0]) < 1e-6)
        #expect(!layer.table.touchedRows.contains(0) && !layer.table.touchedRows.contains(11))
    }
}
