/// A value of a v2 `parameters` object: the protocol allows a bool, a number or a string.
public enum InferParameter: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    /// The value when it is a bool.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value when it is an integer (or a double with an integral value that fits Int64).
    public var int64Value: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int64(exactly: value)
        default: return nil
        }
    }
}
