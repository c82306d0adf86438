/// One row before encoding, by kind in schema order: optional label, numbers, tokens and sequences.
public struct RawRow: Sendable, Equatable {
    /// The click label (0 or 1); nil when the row is unlabeled, as in serving.
    public var label: Float?
    /// The numeric fields in schema order; nil marks a missing value.
    public var dense: [Double?]
    /// The categorical fields in schema order; nil marks a missing value.
    public var categorical: [String?]
    /// The sequence fields in schema order, as `splitter`-joined text; nil marks a missing value.
    public var sequences: [String?]

    /// Creates a row; entries beyond the arrays' ends are treated as missing by the encoder.
    public init(label: Float? = nil, dense: [Double?] = [], categorical: [String?] = [], sequences: [String?] = []) {
        self.label = label
        self.dense = dense
        self.categorical = categorical
        self.sequences = sequences
    }

    /// An all-missing row sized for `schema` (so fields can be assigned by index).
    public init(label: Float? = nil, schema: FeatureSchema) {
        self.init(label: label, dense: Array(repeating: nil, count: schema.numericFields.count),
                  categorical: Array(repeating: nil, count: schema.categoricalFields.count),
                  sequences: Array(repeating: nil, count: schema.sequenceFields.count))
    }
}
