import ONNXRuntime

/// The element type of a tensor: the one name for it from the ONNX binding to the wire, spelled as the Open
/// Inference Protocol (KServe v2) spells it (`"FP32"`, `"INT64"`, `"BYTES"`).
public enum TensorElementType: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case bf16 = "BF16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    /// Variable-length strings (ONNX's string tensors): models with them are not served.
    case bytes = "BYTES"

    /// Bytes per element, or nil for BYTES (length-prefixed, variable).
    public var byteSize: Int? {
        switch self {
        case .bool, .int8, .uint8: 1
        case .fp16, .bf16, .int16, .uint16: 2
        case .fp32, .int32, .uint32: 4
        case .fp64, .int64, .uint64: 8
        case .bytes: nil
        }
    }

    public var description: String { rawValue }

    /// Parses the wire name (`"FP32"` → `.fp32`), or nil if unknown; names fit a small string, so no allocation.
    package static func parse(_ bytes: UnsafeRawBufferPointer) -> TensorElementType? {
        bytes.count <= 6 ? TensorElementType(rawValue: String(decoding: bytes, as: UTF8.self)) : nil
    }

    /// The serving type of an ONNX element type; nil for the ones no front end can carry (complex, undefined).
    init?(ort type: ORTElementType) {
        switch type {
        case .float: self = .fp32
        case .double: self = .fp64
        case .float16: self = .fp16
        case .bfloat16: self = .bf16
        case .int8: self = .int8
        case .int16: self = .int16
        case .int32: self = .int32
        case .int64: self = .int64
        case .uint8: self = .uint8
        case .uint16: self = .uint16
        case .uint32: self = .uint32
        case .uint64: self = .uint64
        case .bool: self = .bool
        case .string: self = .bytes
        case .undefined, .complex64, .complex128: return nil
        }
    }

    /// The ONNX element type of this serving type.
    var ort: ORTElementType {
        switch self {
        case .fp32: .float
        case .fp64: .double
        case .fp16: .float16
        case .bf16: .bfloat16
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        case .uint64: .uint64
        case .bool: .bool
        case .bytes: .string
        }
    }
}

/// A model input or output as the backend reports it: name, element type and shape (-1 = dynamic).
public struct TensorDescription: Sendable, Equatable {
    public let name: String
    public let elementType: TensorElementType
    /// Dimensions; -1 marks a dynamic (symbolic or unknown) one.
    public let shape: [Int64]

    /// Describes a tensor.
    public init(name: String, elementType: TensorElementType, shape: [Int64]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape.map { $0 < 0 ? -1 : $0 }
    }

    /// The description of a session's tensor, or why it cannot be served.
    static func from(_ info: ORTTensorInfo, path: String) throws(ServingError) -> TensorDescription {
        guard let type = TensorElementType(ort: info.elementType) else {
            throw ServingError(.modelLoad, "\(path): tensor \"\(info.name)\" has element type \(info.elementType), which cannot be served")
        }
        return TensorDescription(name: info.name, elementType: type, shape: info.shape)
    }
}
