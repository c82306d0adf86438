/// Writes protocol-buffer wire format by hand: varints, length-delimited fields, fixed32.
///
/// ONNX files are plain protobuf messages; the handful of message types the exporter needs are small
/// enough that a direct writer is simpler than generated code.
public struct ProtobufWriter: Sendable {
    /// The encoded message so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty message.
    public init() {}

    private enum WireType: UInt64 {
        case varint = 0
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        appendVarint(UInt64(field) << 3 | type.rawValue)
    }

    /// Appends a base-128 varint (no field key).
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An int32/int64/enum field; negative values take ten bytes, as protobuf specifies.
    public mutating func int(_ field: Int, _ value: Int64) {
        key(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// A float field (fixed32, little-endian).
    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
    }

    /// A string field (UTF-8).
    public mutating func string(_ field: Int, _ value: String) {
        data(field, Array(value.utf8))
    }

    /// A bytes field.
    public mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// An embedded message field.
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        data(field, inner.bytes)
    }

    /// A packed repeated int64 field.
    public mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for value in values { inner.appendVarint(UInt64(bitPattern: value)) }
        data(field, inner.bytes)
    }
}
