/// Masked pooling of sequence fields over one table, row by row: the average (FuxiCTR's default
/// `feature_encoder`, for ``FieldEmbedding``'s d-wide table) or the sum (FuxiCTR's `MaskedSumPooling`, which its
/// `FeatureEmbeddingDict` uses for one-wide embeddings: ``LinearPart``'s weights).
///
/// Both see the same mask: an element equal to its field's padding id adds nothing and is not counted.
struct SequencePooling {
    /// The fields, in column order.
    let fields: [SequenceField]
    /// First column of each field in a row of the `sequences` input.
    let offsets: [Int]
    /// Columns per row (all fields).
    let width: Int
    /// Whether the pooled value is divided by the non-padding count (average) or not (sum).
    let average: Bool

    init(fields: [SequenceField], average: Bool = true) {
        self.fields = fields
        self.average = average
        var offsets: [Int] = [], next = 0
        for field in fields {
            offsets.append(next)
            next += field.length
        }
        self.offsets = offsets
        width = next
    }

    /// Non-padding elements of field `s` in a row of sequence ids, plus ε: the pooling denominator.
    @inline(__always)
    func denominator(field s: Int, row: UnsafePointer<Int64>) -> Float {
        let field = fields[s], elements = row + offsets[s]
        var count = 0
        for t in 0..<field.length where elements[t] != field.paddingID { count += 1 }
        return Float(count) + SequenceField.poolingEpsilon
    }

    /// Writes the masked mean of field `s`'s rows of `table` into `target` (`table.dimension` wide).
    @inline(__always)
    func pool(field s: Int, row: UnsafePointer<Int64>, table: EmbeddingTable, into target: UnsafeMutablePointer<Float>) {
        let field = fields[s], elements = row + offsets[s], d = table.dimension
        target.update(repeating: 0, count: d)
        for t in 0..<field.length where elements[t] != field.paddingID {
            let id = Int(elements[t])
            precondition(id >= 0 && id < table.rows, "sequence id \(id) outside the \(table.name) table")
            let source = table.row(id)
            for k in 0..<d { target[k] += source[k] }
        }
        guard average else { return }
        // Divide (not multiply by the reciprocal) as the exported graph's Div does, for the same rounding.
        let denominator = denominator(field: s, row: row)
        for k in 0..<d { target[k] /= denominator }
    }

    /// Adds ∂loss/∂(pooled vector) (÷ denominator when averaging) to the gradient row of every non-padding element of field `s`.
    @inline(__always)
    func accumulateGradient(field s: Int, row: UnsafePointer<Int64>, table: EmbeddingTable, outputGradient source: UnsafePointer<Float>) {
        let field = fields[s], elements = row + offsets[s], d = table.dimension
        let scale = average ? 1 / denominator(field: s, row: row) : 1
        for t in 0..<field.length where elements[t] != field.paddingID {
            let target = table.gradientRow(Int(elements[t]))
            for k in 0..<d { target[k] += source[k] * scale }
        }
    }
}
