/// The first-order (logistic-regression) term: a weight per id, per dense field (or per dense bucket), a bias.
///
/// FuxiCTR's `LR_Layer`: a one-wide embedding of every feature, summed, plus a bias. A sequence field adds
/// the masked sum of its elements' weights, as FuxiCTR's `FeatureEmbeddingDict` pools one-wide sequence
/// embeddings (`MaskedSumPooling`).
public final class LinearPart {
    /// Number of id columns per row.
    public let sparseFields: Int
    /// Number of dense columns per row.
    public let denseFields: Int
    /// One weight per global id.
    public let table: EmbeddingTable
    /// One weight per dense field (numeric inputs); nil with buckets.
    public let denseWeight: Parameter?
    /// One weight per (dense field, bucket); nil for numeric inputs.
    public let bucketTable: EmbeddingTable?
    /// How dense values map to `bucketTable` rows.
    public let buckets: DenseBuckets?
    /// Sequence fields, pooled from `table`; empty for Criteo.
    public var sequenceFields: [SequenceField] { pooling.fields }
    let pooling: SequencePooling
    /// Scalar bias.
    public let bias: Parameter
    /// Forward result, one logit term per row.
    public let output: FloatBuffer

    /// Trainable dense tensors of this layer.
    public var parameters: [Parameter] { (denseWeight.map { [$0] } ?? []) + [bias] }

    /// Sparsely updated tables of this layer: the id weights, then the bucket weights if any.
    public var tables: [EmbeddingTable] { [table] + (bucketTable.map { [$0] } ?? []) }

    /// Creates the layer for batches of at most `maxBatch` rows; `buckets` selects per-bucket dense weights.
    public init(vocabularySize: Int, sparseFields: Int, denseFields: Int, maxBatch: Int, buckets: DenseBuckets? = nil,
                sequenceFields: [SequenceField] = []) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.buckets = buckets
        pooling = SequencePooling(fields: sequenceFields, average: false)
        table = EmbeddingTable(name: "linear_weight", rows: vocabularySize, dimension: 1,
                               expectedTouchedRows: maxBatch * (sparseFields + pooling.width))
        if let buckets {
            denseWeight = nil
            bucketTable = EmbeddingTable(name: "linear_dense_bucket_weight", rows: buckets.rows, dimension: 1,
                                         expectedTouchedRows: min(buckets.rows, maxBatch * denseFields))
        } else {
            denseWeight = Parameter(name: "linear_dense_weight", shape: [denseFields, 1], isEmbedding: true)
            bucketTable = nil
        }
        bias = Parameter(name: "linear_bias", shape: [1])
        output = FloatBuffer(count: maxBatch)
    }

    /// Fills `output` for `count` rows.
    public func forward(_ inputs: ModelInputs, count: Int) {
        let weights = table.value.pointer, ids = inputs.ids, dense = inputs.dense
        let sequenceFieldCount = pooling.fields.count, sequenceWidth = pooling.width
        for b in 0..<count {
            var sum = bias.value[0]
            for f in 0..<sparseFields {
                let id = Int(ids[b * sparseFields + f])
                precondition(id >= 0 && id < table.rows, "sparse id \(id) outside the linear table")
                sum += weights[id]
            }
            if let buckets, let bucketTable {
                for j in 0..<denseFields { sum += bucketTable.value[buckets.row(field: j, value: dense[b * denseFields + j])] }
            } else if let denseWeight {
                for j in 0..<denseFields { sum += denseWeight.value[j] * dense[b * denseFields + j] }
            }
            let sequences = inputs.sequences + b * sequenceWidth
            for s in 0..<sequenceFieldCount {
                var pooled: Float = 0
                pooling.pool(field: s, row: sequences, table: table, into: &pooled)
                sum += pooled
            }
            output[b] = sum
        }
    }

    /// Accumulates parameter gradients from `outputGradient` (one value per row).
    public func backward(outputGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        let ids = inputs.ids, dense = inputs.dense
        let sequenceFieldCount = pooling.fields.count, sequenceWidth = pooling.width
        for b in 0..<count {
            let g = outputGradient[b]
            bias.gradient[0] += g
            for f in 0..<sparseFields { table.gradientRow(Int(ids[b * sparseFields + f]))[0] += g }
            if let buckets, let bucketTable {
                for j in 0..<denseFields {
                    bucketTable.gradientRow(buckets.row(field: j, value: dense[b * denseFields + j]))[0] += g
                }
            } else if let denseWeight {
                for j in 0..<denseFields { denseWeight.gradient[j] += g * dense[b * denseFields + j] }
            }
            let sequences = inputs.sequences + b * sequenceWidth
            var rowGradient = g
            for s in 0..<sequenceFieldCount {
                pooling.accumulateGradient(field: s, row: sequences, table: table, outputGradient: &rowGradient)
            }
        }
    }
}
