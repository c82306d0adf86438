import CTRServing

/// Why the server refused or failed a request, independent of the protocol it came in on.
///
/// Both front ends turn every failure into this one type, so the mapping to an HTTP status and to a gRPC
/// status code is written once, by each front end in its own folder (HTTP/ServerError+HTTP.swift,
/// GRPC/ServerError+GRPC.swift), and testable without sockets.
public struct ServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; it alone decides the status on either protocol.
    public enum Kind: Sendable, Equatable, CaseIterable {
        /// No such model or version.
        case notFound
        /// The request is malformed or does not fit the model.
        case invalidArgument
        /// The request is well formed but over a configured limit (rows, elements, bytes).
        case limitExceeded
        /// The queue is full: retry later.
        case queueFull
        /// Warming up or shutting down.
        case unavailable
        /// The request's deadline passed before it ran.
        case deadlineExceeded
        /// The server does not implement what was asked.
        case unimplemented
        /// The model failed to run.
        case internalError
    }

    public let kind: Kind
    public let message: String

    /// Creates an error with a message a client can act on.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A decoding or validation failure.
    public init(_ error: RequestDecodeError) {
        switch error.kind {
        case .malformedJSON, .invalidRequest: self.init(.invalidArgument, error.message)
        case .limitExceeded: self.init(.limitExceeded, error.message)
        }
    }

    /// A failure of the serving core (queueing, deadlines, ONNX Runtime).
    public init(_ error: ServingError) {
        switch error.kind {
        case .badInput: self.init(.invalidArgument, error.message)
        case .unknownModel: self.init(.notFound, error.message)
        case .queueFull: self.init(.queueFull, error.message)
        case .shuttingDown: self.init(.unavailable, error.message)
        case .deadlineExpired: self.init(.deadlineExceeded, error.message)
        case .modelLoad, .inference: self.init(.internalError, error.message)
        }
    }

    public var description: String { message }

    /// Whether the client should retry after a pause (HTTP sends `Retry-After: 1`).
    public var isRetryable: Bool { kind == .queueFull || kind == .unavailable }
}
