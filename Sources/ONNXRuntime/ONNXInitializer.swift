/// One initializer (a weight tensor) of an ONNX model's main graph, located but not copied.
public struct ONNXInitializer: Sendable, Equatable {
    /// Where the tensor's bytes are.
    public enum Storage: Sendable, Equatable {
        /// Little-endian element bytes at `offset` in the model file (`raw_data`, or packed `float_data`/`double_data`).
        case inline(offset: Int, length: Int)
        /// Values from varint-encoded `int64_data` (or `int32_data` of an int32 tensor), decoded.
        case int64Values([Int64])
        case int32Values([Int32])
        /// ONNX external data: `length` bytes at `offset` of `location`, a path relative to the model's directory.
        case external(location: String, offset: Int, length: Int)
        /// A layout this reader does not decode (strings, segments, unpacked floats...): ONNX Runtime loads it itself.
        case unsupported(String)
    }

    public let name: String
    public let elementType: ORTElementType
    public let dimensions: [Int64]
    public let storage: Storage

    /// Creates a description (the reader makes these; tests compare against them).
    public init(name: String, elementType: ORTElementType, dimensions: [Int64], storage: Storage) {
        self.name = name
        self.elementType = elementType
        self.dimensions = dimensions
        self.storage = storage
    }

    /// Elements the dimensions describe (1 for a scalar).
    public var elementCount: Int { dimensions.reduce(1) { $0 * Int($1) } }

    /// Bytes the tensor's elements take in memory, or nil for types without a fixed size.
    public var byteCount: Int? { elementType.byteSize.map { $0 * elementCount } }
}
