/// Everything that can go wrong in training, evaluation and export, with a message a user can act on.
public enum CTRModelsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file could not be written.
    case cannotWrite(path: String, reason: String)
    /// A file could not be read.
    case cannotRead(path: String, reason: String)
    /// An option has a value that cannot work.
    case invalidConfiguration(String)
    /// The data has no usable rows.
    case noData(path: String)
    /// The model failed to produce predictions.
    case predictionFailed(String)
    /// Two inputs that must agree do not (e.g. a truth file and its data file).
    case mismatch(String)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case let .cannotRead(path, reason): "cannot read \(path): \(reason)"
        case let .invalidConfiguration(message): "invalid configuration: \(message)"
        case let .noData(path): "no usable rows in \(path)"
        case let .predictionFailed(message): "prediction failed: \(message)"
        case let .mismatch(message): message
        }
    }
}
