/// Turns one row's sparse ids, dense values and sequences into one embedding vector per field.
///
/// Sparse field `f` looks up its global id in one shared table. Dense field `j` either has its own
/// vector scaled by the value (FuxiCTR's numeric-feature embedding, `nn.Linear(1, d, bias=False)`) or,
/// with ``DenseBuckets``, looks up its value's bucket in a second table (FuxiCTR's Criteo_x4 treatment).
/// Sequence field `s` is the masked mean of its elements' rows of the same shared table (``SequenceField``).
/// Output layout: [batch, sparseFields + denseFields + sequenceFields.count, dimension], in that order.
public final class FieldEmbedding {
    /// Number of id columns per row.
    public let sparseFields: Int
    /// Number of dense columns per row.
    public let denseFields: Int
    /// Embedding width.
    public let dimension: Int
    /// Shared table for all sparse fields (global ids).
    public let table: EmbeddingTable
    /// Numeric embedding: one vector per dense field, [denseFields, dimension]; nil with buckets.
    public let denseEmbedding: Parameter?
    /// Bucket embedding: one row per (dense field, bucket); nil for the numeric embedding.
    public let bucketTable: EmbeddingTable?
    /// How dense values map to `bucketTable` rows.
    public let buckets: DenseBuckets?
    /// Sequence fields, pooled from `table`; empty for Criteo.
    public var sequenceFields: [SequenceField] { pooling.fields }
    let pooling: SequencePooling
    /// Forward result, [maxBatch, fields, dimension].
    public let output: FloatBuffer

    /// Total fields (sparse + dense + sequence).
    public var fieldCount: Int { sparseFields + denseFields + pooling.fields.count }

    /// Trainable dense tensors of this layer.
    public var parameters: [Parameter] { denseEmbedding.map { [$0] } ?? [] }

    /// Sparsely updated tables of this layer: the id table, then the bucket table if any.
    public var tables: [EmbeddingTable] { [table] + (bucketTable.map { [$0] } ?? []) }

    /// Creates the layer for batches of at most `maxBatch` rows; `buckets` selects the bucket embedding.
    public init(vocabularySize: Int, sparseFields: Int, denseFields: Int, dimension: Int, maxBatch: Int,
                buckets: DenseBuckets? = nil, sequenceFields: [SequenceField] = []) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.dimension = dimension
        self.buckets = buckets
        pooling = SequencePooling(fields: sequenceFields)
        table = EmbeddingTable(
            name: "embedding_table", rows: vocabularySize, dimension: dimension,
            expectedTouchedRows: maxBatch * (sparseFields + pooling.width))
        if let buckets {
            denseEmbedding = nil
            bucketTable = EmbeddingTable(name: "dense_bucket_embedding", rows: buckets.rows, dimension: dimension,
                                         expectedTouchedRows: min(buckets.rows, maxBatch * denseFields))
        } else {
            denseEmbedding = Parameter(name: "dense_embedding", shape: [denseFields, dimension], isEmbedding: true)
            bucketTable = nil
        }
        output = FloatBuffer(count: maxBatch * (sparseFields + denseFields + sequenceFields.count) * dimension)
    }

    /// Fills `output` for `count` rows.
    public func forward(_ inputs: ModelInputs, count: Int) {
        let d = dimension, fields = fieldCount, ids = inputs.ids, dense = inputs.dense
        let sequenceFieldCount = pooling.fields.count, sequenceWidth = pooling.width
        let firstSequence = sparseFields + denseFields
        for b in 0..<count {
            let rowOut = output.pointer + b * fields * d
            for f in 0..<sparseFields {
                let id = Int(ids[b * sparseFields + f])
                precondition(id >= 0 && id < table.rows, "sparse id \(id) outside the embedding table")
                (rowOut + f * d).update(from: table.row(id), count: d)
            }
            for j in 0..<denseFields {
                let x = dense[b * denseFields + j]
                let target = rowOut + (sparseFields + j) * d
                if let buckets, let bucketTable {
                    target.update(from: bucketTable.row(buckets.row(field: j, value: x)), count: d)
                } else if let denseEmbedding {
                    let vector = denseEmbedding.value.pointer + j * d
                    for k in 0..<d { target[k] = vector[k] * x }
                }
            }
            let sequences = inputs.sequences + b * sequenceWidth
            for s in 0..<sequenceFieldCount {
                pooling.pool(field: s, row: sequences, table: table, into: rowOut + (firstSequence + s) * d)
            }
        }
    }

    /// Accumulates parameter gradients from `outputGradient` ([count, fields, dimension]).
    public func backward(outputGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int) {
        let d = dimension, fields = fieldCount, ids = inputs.ids, dense = inputs.dense
        let sequenceFieldCount = pooling.fields.count, sequenceWidth = pooling.width
        let firstSequence = sparseFields + denseFields
        for b in 0..<count {
            let rowGradient = outputGradient + b * fields * d
            for f in 0..<sparseFields {
                let target = table.gradientRow(Int(ids[b * sparseFields + f]))
                let source = rowGradient + f * d
                for k in 0..<d { target[k] += source[k] }
            }
            for j in 0..<denseFields {
                let x = dense[b * denseFields + j]
                let source = rowGradient + (sparseFields + j) * d
                if let buckets, let bucketTable {
                    let target = bucketTable.gradientRow(buckets.row(field: j, value: x))
                    for k in 0..<d { target[k] += source[k] }
                } else if let denseEmbedding {
                    let target = denseEmbedding.gradient.pointer + j * d
                    for k in 0..<d { target[k] += source[k] * x }
                }
            }
            let sequences = inputs.sequences + b * sequenceWidth
            for s in 0..<sequenceFieldCount {
                pooling.accumulateGradient(field: s, row: sequences, table: table,
                                           outputGradient: rowGradient + (firstSequence + s) * d)
            }
        }
    }
}
