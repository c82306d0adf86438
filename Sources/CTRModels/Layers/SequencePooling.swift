/// Masked average pooling of sequence fields over one table, row by row (FuxiCTR's default `feature_encoder`).
///
/// Shared by ``FieldEmbedding`` (the d-wide shared table) and ``LinearPart`` (the one-wide linear weights), so
/// both see the same mask: an element equal to its field's padding id adds nothing and is not counted.
struct SequencePooling {
    /// The fields, in column order.
    let fields: [SequenceField]
    /// First column of each field in a row of the `sequences` input.
    let offsets: [Int]
    /// Columns per row (all fields).
    let width: Int

    init(fields: [SequenceField]) {
        self.fields = fields
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
        // Divide (not multiply by the reciprocal) as the exported graph's Div does, for the same rounding.
        let denominator = denominator(field: s, row: row)
        for k in 0..<d { target[k] /= denominator }
    }

    /// Adds ∂loss/∂(pooled vector) ÷ denominator to the gradient row of every non-padding element of field `s`.
    @inline(__always)
    func accumulateGradient(field s: Int, row: UnsafePointer<Int64>, table: EmbeddingTable, outputGradient source: UnsafePointer<Float>) {
        let field = fields[s], elements = row + offsets[s], d = table.dimension
        let scale = 1 / denominator(field: s, row: row)
        for t in 0..<field.length where elements[t] != field.paddingID {
            let target = table.gradientRow(Int(elements[t]))
            for k in 0..<d { target[k] += source[k] * scale }
        }
    }
}
