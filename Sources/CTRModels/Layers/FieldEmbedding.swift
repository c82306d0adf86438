/// Turns one row's sparse ids and dense values into one embedding vector per field.
///
/// Sparse field `f` looks up its global id in one shared table; dense field `j` has its own vector
/// scaled by the value (FuxiCTR's numeric-feature embedding, `nn.Linear(1, d, bias=False)`).
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
    /// One vector per dense field, [denseFields, dimension].
    public let denseEmbedding: Parameter
    /// Forward result, [maxBatch, fields, dimension].
    public let output: FloatBuffer

    /// Total fields (sparse + dense).
    public var fieldCount: Int { sparseFields + denseFields }

    /// Creates the layer for batches of at most `maxBatch` rows.
    public init(vocabularySize: Int, sparseFields: Int, denseFields: Int, dimension: Int, maxBatch: Int) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.dimension = dimension
        table = EmbeddingTable(
            name: "embedding_table", rows: vocabularySize, dimension: dimension,
            expectedTouchedRows: maxBatch * sparseFields)
        denseEmbedding = Parameter(name: "dense_embedding", shape: [denseFields, dimension])
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
                let vector = denseEmbedding.value.pointer + j * d
                for k in 0..<d { target[k] = vector[k] * x }
            }
        }
    }

    /// Accumulates parameter gradients from `outputGradient` ([count, fields, dimension]).
    public func backward(
        outputGradient: UnsafePointer<Float>, ids: UnsafePointer<Int64>, dense: UnsafePointer<Float>, count: Int
    ) {
        let d = dimension, fields = fieldCount
        let denseGradient = denseEmbedding.gradient.pointer
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
                let target = denseGradient + j * d
                for k in 0..<d { target[k] += source[k] * x }
            }
        }
    }
}
