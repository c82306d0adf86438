/// Turns one row's sparse ids and dense values into one embedding vector per field.
///
/// Sparse field `f` looks up its global id in one shared table. Dense field `j` either has its own
/// vector scaled by the value (FuxiCTR's numeric-feature embedding, `nn.Linear(1, d, bias=False)`) or,
/// with ``DenseBuckets``, looks up its value's bucket in a second table (FuxiCTR's Criteo_x4 treatment).
/// Output layout: [batch, sparseFields + denseFields, dimension], sparse fields first.
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
    /// Forward result, [maxBatch, fields, dimension].
    public let output: FloatBuffer

    /// Total fields (sparse + dense).
    public var fieldCount: Int { sparseFields + denseFields }

    /// Trainable dense tensors of this layer.
    public var parameters: [Parameter] { denseEmbedding.map { [$0] } ?? [] }

    /// Sparsely updated tables of this layer: the id table, then the bucket table if any.
    public var tables: [EmbeddingTable] { [table] + (bucketTable.map { [$0] } ?? []) }

    /// Creates the layer for batches of at most `maxBatch` rows; `buckets` selects the bucket embedding.
    public init(vocabularySize: Int, sparseFields: Int, denseFields: Int, dimension: Int, maxBatch: Int,
                buckets: DenseBuckets? = nil) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.dimension = dimension
        self.buckets = buckets
        table = EmbeddingTable(
            name: "embedding_table", rows: vocabularySize, dimension: dimension,
            expectedTouchedRows: maxBatch * sparseFields)
        if let buckets {
            denseEmbedding = nil
            bucketTable = EmbeddingTable(name: "dense_bucket_embedding", rows: buckets.rows, dimension: dimension,
                                         expectedTouchedRows: min(buckets.rows, maxBatch * denseFields))
        } else {
            denseEmbedding = Parameter(name: "dense_embedding", shape: [denseFields, dimension])
            bucketTable = nil
        }
        output = FloatBuffer(count: maxBatch * (sparseFields + denseFields) * dimension)
    }

    /// Fills `output` for `count` rows.
    public func forward(ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, count: Int) {
        let d = dimension, fields = fieldCount
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
        }
    }

    /// Accumulates parameter gradients from `outputGradient` ([count, fields, dimension]).
    public func backward(
        outputGradient: UnsafePointer<Float>, ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, count: Int
    ) {
        let d = dimension, fields = fieldCount
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
        }
    }
}
