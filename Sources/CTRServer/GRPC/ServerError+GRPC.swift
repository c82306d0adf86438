import GRPCCore

extension ServerError {
    /// The gRPC status code: Triton's mapping (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE, UNIMPLEMENTED),
    /// RESOURCE_EXHAUSTED for limits and DEADLINE_EXCEEDED for deadlines.
    public var rpcCode: RPCError.Code {
        switch kind {
        case .notFound: .notFound
        case .invalidArgument: .invalidArgument
        case .limitExceeded: .resourceExhausted
        case .queueFull, .unavailable: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        case .unimplemented: .unimplemented
        case .internalError: .internalError
        }
    }
}
