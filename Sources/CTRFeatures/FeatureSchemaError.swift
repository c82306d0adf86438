/// Why a dataset config or schema was refused; one line naming the file, the dataset and the key.
public struct FeatureSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a schema failure, for callers that react differently to each.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadable = "unreadable file"
            case malformedYAML = "malformed YAML"
            case unknownDataset = "unknown dataset"
            case unknownKey = "unknown key"
            case unsupported = "unsupported setting"
            case invalidValue = "invalid value"
            case invalidField = "invalid field"
            case missingColumn = "column not in the data"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The config file does not exist or cannot be read.
        public static let unreadable = Code(.unreadable)
        /// The file is not YAML of the expected shape.
        public static let malformedYAML = Code(.malformedYAML)
        /// `--dataset-id` names no dataset in the file, or the file holds several and none was named.
        public static let unknownDataset = Code(.unknownDataset)
        /// A key that no reader knows (usually a typo); the detail suggests the nearest known key.
        public static let unknownKey = Code(.unknownKey)
        /// A known FuxiCTR setting that would change the encoding and that Clickwise does not implement.
        public static let unsupported = Code(.unsupported)
        /// A known key with a value of the wrong type or out of range.
        public static let invalidValue = Code(.invalidValue)
        /// A field's settings contradict each other or another field.
        public static let invalidField = Code(.invalidField)
        /// A declared column is absent from a data file's header.
        public static let missingColumn = Code(.missingColumn)

        /// A short name for the category, such as "unknown key".
        public var description: String { base.rawValue }
    }

    /// The category of the failure.
    public var code: Code
    /// What exactly is wrong, in words a user can act on.
    public var detail: String
    /// The config file, when the schema came from one.
    public var path: String?
    /// The dataset id within the file.
    public var dataset: String?
    /// The key involved, as a dotted path such as `feature_cols[2].type`.
    public var key: String?

    /// Creates an error; the location is filled in by the reader that knows it.
    public init(_ code: Code, _ detail: String, path: String? = nil, dataset: String? = nil, key: String? = nil) {
        self.code = code
        self.detail = detail
        self.path = path
        self.dataset = dataset
        self.key = key
    }

    /// One line: file, dataset and key, then the category and the detail.
    public var description: String {
        var location = path ?? "dataset config"
        if let dataset { location += ": dataset \(dataset)" }
        if let key { location += ": \(key)" }
        return "\(location): \(code): \(detail)"
    }
}
