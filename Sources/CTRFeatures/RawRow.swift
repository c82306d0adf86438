/// One Criteo row before encoding: optional label, 13 optional integers, 26 optional categorical strings.
public struct RawRow: Sendable, Equatable {
    /// The click label (0 or 1); nil when the row is unlabeled, as in serving.
    public var label: Float?
    /// The 13 integer fields I1...I13 in order; nil marks a missing value.
    public var dense: [Int64?]
    /// The 26 categorical fields C1...C26 in order; nil marks a missing value.
    public var categorical: [String?]

    /// Creates a row; entries beyond the arrays' ends are treated as missing by the encoder.
    public init(label: Float? = nil,
                dense: [Int64?] = Array(repeating: nil, count: CriteoSchema.denseCount),
                categorical: [String?] = Array(repeating: nil, count: CriteoSchema.categoricalCount)) {
        self.label = label
        self.dense = dense
        self.categorical = categorical
    }
}
