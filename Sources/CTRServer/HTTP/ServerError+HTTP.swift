import NIOHTTP1

extension ServerError {
    /// The HTTP status: Triton's mapping (404, 400, 503, 501), with 413 for limits and 504 for deadlines.
    public var httpStatus: HTTPResponseStatus {
        switch kind {
        case .notFound: .notFound
        case .invalidArgument: .badRequest
        case .limitExceeded: .payloadTooLarge
        case .queueFull, .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .unimplemented: .notImplemented
        case .internalError: .internalServerError
        }
    }
}
