/// Why a request body was rejected, with a message a client can act on.
///
/// One error type for every codec in this target, so the HTTP layer has a single place that maps
/// decoding failures to status codes (`kind`) and `{"error": message}` bodies.
public struct RequestDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What class of problem this is; the HTTP layer picks the status code from it.
    public enum Kind: Sendable, Equatable {
        /// The bytes are not valid JSON (RFC 8259), or not valid UTF-8: 400.
        case malformedJSON
        /// Valid JSON whose content does not match the API (unknown key, wrong type, bad shape): 400.
        case invalidRequest
        /// The request is well formed but exceeds a configured limit (rows, elements): 413.
        case limitExceeded
    }

    /// The class of problem.
    public let kind: Kind
    /// The human-readable message, e.g. `expected ',' or ']' at byte 57, found '}'`.
    public let message: String
    /// The byte offset into the body where the problem was found, when it has one.
    public let offset: Int?

    /// Creates an error; `offset` is the byte position in the body, if meaningful.
    public init(_ kind: Kind, _ message: String, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    /// The message, which already names the position or field.
    public var description: String { message }
}
