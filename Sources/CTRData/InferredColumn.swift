/// What ``SchemaInference`` decided about one column of a data file, and why.
public struct InferredColumn: Sendable, Equatable {
    /// The role of a column: the label, or one of the three kinds of feature.
    public enum Kind: String, Sendable, Equatable {
        /// The click label.
        case label
        /// A value looked up in a vocabulary (an id, a level, a code, a string).
        case categorical
        /// A number fed to the model as a float, after a normalizer.
        case numeric
        /// A list of categorical values joined by a splitter.
        case sequence
    }

    /// The column's name in the header.
    public var name: String
    /// The role the column was given.
    public var kind: Kind
    /// FuxiCTR's dtype for the column: `str`, `int` or `float`.
    public var dtype: String
    /// Whether the column should be used; false for a column with no values in the sample.
    public var active: Bool
    /// Distinct non-empty values in the sample (a lower bound when ``distinctCountIsCapped``).
    public var distinctCount: Int
    /// Whether counting stopped at the limit, so the true count is at least ``distinctCount``.
    public var distinctCountIsCapped: Bool
    /// Empty (missing) values in the sample.
    public var emptyCount: Int
    /// The normalizer for a numeric column, such as `StandardScaler`.
    public var normalizer: String?
    /// The element separator of a sequence column.
    public var splitter: String?
    /// The padded length of a sequence column.
    public var maxLength: Int?
    /// Why the column got this kind and dtype, in a few words.
    public var reason: String

    /// Creates a column description.
    public init(name: String, kind: Kind, dtype: String, active: Bool = true, distinctCount: Int,
                distinctCountIsCapped: Bool = false, emptyCount: Int, normalizer: String? = nil,
                splitter: String? = nil, maxLength: Int? = nil, reason: String) {
        self.name = name
        self.kind = kind
        self.dtype = dtype
        self.active = active
        self.distinctCount = distinctCount
        self.distinctCountIsCapped = distinctCountIsCapped
        self.emptyCount = emptyCount
        self.normalizer = normalizer
        self.splitter = splitter
        self.maxLength = maxLength
        self.reason = reason
    }

    /// The distinct count as text, with a `+` when it is a lower bound.
    public var distinctDescription: String {
        distinctCountIsCapped ? "\(distinctCount)+" : "\(distinctCount)"
    }
}
