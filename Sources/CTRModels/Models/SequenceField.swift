/// A sequence field: `length` consecutive columns of the `sequences` input, pooled into one field vector.
///
/// Elements are global ids into the shared embedding table (a sequence may share a categorical field's
/// vocabulary block, as FuxiCTR's `share_embedding` does); elements equal to `paddingID` are masked out.
/// Pooling is FuxiCTR's default masked average: Σ non-padding embeddings / (non-padding count + ε),
/// so an all-padding sequence pools to the zero vector instead of NaN.
public struct SequenceField: Codable, Sendable, Equatable {
    /// Columns this field occupies (FuxiCTR's `max_len`).
    public var length: Int
    /// The global id that marks padding (FuxiCTR's `__PAD__`, index 0 of the field's vocabulary block).
    public var paddingID: Int64

    /// ε in the pooling denominator: FuxiCTR's `1e-12`, which keeps empty sequences finite.
    public static let poolingEpsilon: Float = 1e-12

    /// Creates a field of `length` columns padded with `paddingID`.
    public init(length: Int, paddingID: Int64) {
        precondition(length >= 1, "a sequence field has at least one column")
        self.length = length
        self.paddingID = paddingID
    }
}
