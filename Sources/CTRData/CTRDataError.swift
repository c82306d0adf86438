/// Why a data file could not be read or written; the message names the file and the problem.
public struct CTRDataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a data failure, for callers that react differently to each.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case fileNotFound = "no such file"
            case unreadable = "cannot read"
            case readFailed = "read failed"
            case writeFailed = "write failed"
            case invalidArgument = "invalid argument"
            case invalidHeader = "invalid header"
            case columnNotFound = "no such column"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file does not exist.
        public static let fileNotFound = Code(.fileNotFound)
        /// The file exists but cannot be opened (permissions, a directory, ...).
        public static let unreadable = Code(.unreadable)
        /// Reading failed part-way through the file.
        public static let readFailed = Code(.readFailed)
        /// The output file could not be created or written.
        public static let writeFailed = Code(.writeFailed)
        /// A caller-supplied value is out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// A CSV file's header is missing, malformed, or names a column twice or not at all.
        public static let invalidHeader = Code(.invalidHeader)
        /// A column asked for by name is not in the file's header.
        public static let columnNotFound = Code(.columnNotFound)

        /// A short name for the category, such as "no such file".
        public var description: String { base.rawValue }
    }

    /// The category of the failure.
    public var code: Code
    /// The file involved, when there is one.
    public var path: String?
    /// What exactly went wrong, such as the operating system's reason.
    public var detail: String

    /// Creates an error.
    public init(_ code: Code, path: String?, detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// One line: the file, the category and the detail.
    public var description: String {
        if let path { return "\(path): \(code): \(detail)" }
        return "\(code): \(detail)"
    }
}
