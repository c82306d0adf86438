/// The first-order (logistic-regression) term: a weight per id, a weight per dense field, a bias.
///
/// FuxiCTR's `LR_Layer`: a one-wide embedding of every feature, summed, plus a bias.
public final class LinearPart {
    /// Number of id columns per row.
    public let sparseFields: Int
    /// Number of dense columns per row.
    public let denseFields: Int
    /// One weight per global id.
    public let table: EmbeddingTable
    /// One weight per dense field.
    public let denseWeight: Parameter
    /// Scalar bias.
    public let bias: Parameter
    /// Forward result, one logit term per row.
    public let output: FloatBuffer

    /// Creates the layer for batches of at most `maxBatch` rows.
    public init(vocabularySize: Int, sparseFields: Int, denseFields: Int, maxBatch: Int) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        table = EmbeddingTable(
            name: "linear_weight", rows: vocabularySize, dimension: 1, expectedTouchedRows: maxBatch * sparseFields)
        denseWeight = Parameter(name: "linear_dense_weight", shape: [denseFields, 1])
        bias = Parameter(name: "linear_bias", shape: [1])
        output = FloatBuffer(count: maxBatch)
    }

    /// Fills `output` for `count` rows.
    public func forward(ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, count: Int) {
        let weights = table.value.pointer, denseWeights = denseWeight.value.pointer
        for b in 0..<count {
            var sum = bias.value[0]
            for f in 0..<sparseFields {
                let id = Int(ids[b * sparseFields + f])
                precondition(id >= 0 && id < table.rows, "sparse id \(id) outside the linear table")
                sum += weights[id]
            }
            for j in 0..<denseFields { sum += denseWeights[j] * dense[b * denseFields + j] }
            output[b] = sum
        }
    }

    /// Accumulates parameter gradients from `outputGradient` (one value per row).
    public func backward(
        outputGradient: UnsafePointer<Float>, ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, count: Int
    ) {
        let denseGradient = denseWeight.gradient.pointer
        for b in 0..<count {
            let g = outputGradient[b]
            bias.gradient[0] += g
            for f in 0..<sparseFields { table.gradientRow(Int(ids[b * sparseFields + f]))[0] += g }
            for j in 0..<denseFields { denseGradient[j] += g * dense[b * denseFields + j] }
        }
    }
}
