/// A tensor element type of the Open Inference Protocol (KServe v2), spelled as on the wire.
public enum InferDatatype: String, Sendable, CaseIterable {
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
    case bytes = "BYTES"

    /// Bytes an element takes in the binary extension, or nil for BYTES (length-prefixed, variable).
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16, .bf16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: nil
        }
    }

    /// Parses the wire name (`"FP32"` → `.fp32`), or nil if unknown; names fit a small string, so no allocation.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> InferDatatype? {
        bytes.count <= 6 ? InferDatatype(rawValue: String(decoding: bytes, as: UTF8.self)) : nil
    }
}
