/// An error of the serving core: loading models, queueing and running inference.
public struct ServingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarse enough for the HTTP layer to map to a status code.
    public enum Kind: Sendable, Equatable {
        /// The model path or bundle is missing or broken.
        case modelLoad
        /// No model by that name (or version) is served.
        case unknownModel
        /// The input does not fit the model (rows, tensor shapes, types).
        case badInput
        /// The batch queue is full; the client should retry later.
        case queueFull
        /// The request's deadline passed while it waited in the queue.
        case deadlineExpired
        /// The server is draining and takes no new work.
        case shuttingDown
        /// ONNX Runtime failed to run the batch.
        case inference
    }

    public let kind: Kind
    public let message: String

    /// Creates an error with a message a user can act on.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
