/// A reference to one column of a schema by kind and zero-based index within its kind.
public enum FieldRef: Sendable, Equatable, Hashable {
    /// The schema's numeric field `n` (a column of the `dense` input).
    case dense(Int)
    /// The schema's categorical field `n` (a column of `sparse_ids`).
    case categorical(Int)
    /// The schema's sequence field `n` (a span of `sequence_ids`).
    case sequence(Int)
    /// A column declared `active: false`, or the label: accepted and ignored.
    case ignored
}
