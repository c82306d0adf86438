/// The fields one side of a ranking graph reads (the context's or the candidates'), by index within each kind
/// and in the column order of that side's inputs; the flat graph reads them all.
struct ONNXFieldSubset: Sendable, Equatable {
    /// Categorical fields (columns of the side's sparse input).
    var categorical: [Int]
    /// Numeric fields (columns of the side's dense input).
    var numeric: [Int]
    /// Sequence fields (blocks of the side's sequence input).
    var sequences: [Int]

    /// Every field of a model with these counts.
    static func all(categorical: Int, numeric: Int, sequences: Int) -> ONNXFieldSubset {
        ONNXFieldSubset(categorical: Array(0..<categorical), numeric: Array(0..<numeric), sequences: Array(0..<sequences))
    }

    /// How many fields the side embeds.
    var count: Int { categorical.count + numeric.count + sequences.count }

    /// Each field's position in the model's field order (categorical, then numeric, then sequences), in the side's order.
    func modelPositions(categoricalCount: Int, numericCount: Int) -> [Int] {
        categorical + numeric.map { categoricalCount + $0 } + sequences.map { categoricalCount + numericCount + $0 }
    }
}

extension DenseBuckets {
    /// The buckets of `fields` only, their rows still those of the whole bucket table.
    func subset(_ fields: [Int]) -> DenseBuckets {
        DenseBuckets(scales: fields.map { scales[$0] }, maxValues: fields.map { maxValues[$0] }, offsets: fields.map { offsets[$0] }, rows: rows)
    }
}
