/// Why a feature map could not be read, validated or written; the message names the file and the problem.
public struct FeatureMapError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a feature-map failure, for callers that react differently to each.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadable = "unreadable file"
            case malformedJSON = "malformed JSON"
            case unsupportedVersion = "unsupported format version"
            case schemaMismatch = "schema mismatch"
            case invalidVocabulary = "invalid vocabulary"
            case invalidScale = "invalid dense scale"
            case fingerprintMismatch = "fingerprint mismatch"
            case writeFailed = "write failed"
            case invalidImport = "invalid FuxiCTR export"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file does not exist or cannot be read.
        public static let unreadable = Code(.unreadable)
        /// The file is not valid JSON or lacks a required key.
        public static let malformedJSON = Code(.malformedJSON)
        /// The file was written by a newer, incompatible format.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// Field names, counts, offsets or sizes do not match the Criteo schema or each other.
        public static let schemaMismatch = Code(.schemaMismatch)
        /// A vocabulary holds a duplicate or empty value.
        public static let invalidVocabulary = Code(.invalidVocabulary)
        /// A dense scale is not a finite number >= 1.
        public static let invalidScale = Code(.invalidScale)
        /// The recorded fingerprint differs from the content's: the file was edited or truncated.
        public static let fingerprintMismatch = Code(.fingerprintMismatch)
        /// The file could not be written.
        public static let writeFailed = Code(.writeFailed)
        /// A FuxiCTR file (feature_map.json, feature_vocab.json, feature_processor.pkl) is missing a key,
        /// disagrees with the dataset config or another file, or uses a setting the importer does not support.
        public static let invalidImport = Code(.invalidImport)

        /// A short name for the category, such as "fingerprint mismatch".
        public var description: String { base.rawValue }
    }

    /// The category of the failure.
    public var code: Code
    /// The path of the file involved, when there is one.
    public var path: String?
    /// What exactly is wrong, in words a user can act on.
    public var detail: String

    /// Creates an error; `path` is nil for maps that were never on disk.
    public init(_ code: Code, path: String?, detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// One line: the file, the category and the detail.
    public var description: String {
        let subject = path.map { "feature map \($0)" } ?? "feature map"
        return "\(subject): \(code): \(detail)"
    }
}
