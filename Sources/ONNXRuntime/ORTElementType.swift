/// ONNX tensor element types (`ONNXTensorElementDataType`, numbered as ONNX `TensorProto.DataType`).
public enum ORTElementType: Int32, Sendable, CustomStringConvertible {
    case undefined = 0, float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case complex64 = 14, complex128 = 15, bfloat16 = 16

    /// Bytes per element, or nil for types without a fixed size (string).
    public var byteSize: Int? {
        switch self {
        case .float, .int32, .uint32: 4
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .int64, .uint64, .double, .complex64: 8
        case .complex128: 16
        case .string, .undefined: nil
        }
    }

    public var description: String {
        switch self {
        case .undefined: "undefined"
        case .float: "float32"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "float64"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .bfloat16: "bfloat16"
        }
    }
}

/// A Swift scalar type that maps to one ONNX element type.
public protocol ORTScalar: BitwiseCopyable, Sendable {
    /// The ONNX element type with this Swift representation.
    static var ortElementType: ORTElementType { get }
}

extension Float: ORTScalar { public static var ortElementType: ORTElementType { .float } }
extension Double: ORTScalar { public static var ortElementType: ORTElementType { .double } }
extension Int64: ORTScalar { public static var ortElementType: ORTElementType { .int64 } }
extension Int32: ORTScalar { public static var ortElementType: ORTElementType { .int32 } }
extension Int8: ORTScalar { public static var ortElementType: ORTElementType { .int8 } }
extension UInt8: ORTScalar { public static var ortElementType: ORTElementType { .uint8 } }
