import CTRServing
/// The contents of a v2 input tensor: a typed array decoded from JSON, or raw bytes in the body.
public enum InferTensorData: Sendable, Equatable {
    case bool([Bool])
    case uint8([UInt8])
    case uint16([UInt16])
    case uint32([UInt32])
    case uint64([UInt64])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case int64([Int64])
    case fp32([Float])
    case fp64([Double])
    /// BYTES elements, each the raw UTF-8 of a JSON string.
    case bytes([[UInt8]])
    /// Binary tensor extension: this byte range of the request body holds the little-endian elements
    /// (FP16/BF16 only ever arrive this way). Decode with `InferTensorData.decodeBinary`.
    case binary(Range<Int>)

    /// Decodes little-endian binary tensor bytes into a typed array (BYTES: 4-byte length prefixes).
    public static func decodeBinary(_ bytes: UnsafeRawBufferPointer, as datatype: TensorElementType) -> InferTensorData? {
        func read<T: FixedWidthInteger>(_: T.Type) -> [T] {
            let n = bytes.count / MemoryLayout<T>.size
            return (0..<n).map { T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch datatype {
        case .bool: return .bool(bytes.map { $0 != 0 })
        case .uint8: return .uint8(Array(bytes))
        case .uint16: return .uint16(read(UInt16.self))
        case .uint32: return .uint32(read(UInt32.self))
        case .uint64: return .uint64(read(UInt64.self))
        case .int8: return .int8(bytes.map { Int8(bitPattern: $0) })
        case .int16: return .int16(read(Int16.self))
        case .int32: return .int32(read(Int32.self))
        case .int64: return .int64(read(Int64.self))
        case .fp32: return .fp32(read(UInt32.self).map { Float(bitPattern: $0) })
        case .fp64: return .fp64(read(UInt64.self).map { Double(bitPattern: $0) })
        case .fp16, .bf16: return nil  // no portable Swift type on Linux x86; callers use the raw bytes
        case .bytes:
            var elements: [[UInt8]] = []
            var offset = 0
            while offset + 4 <= bytes.count {
                let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                guard offset + 4 + length <= bytes.count else { return nil }
                elements.append(Array(bytes[(offset + 4)..<(offset + 4 + length)]))
                offset += 4 + length
            }
            return offset == bytes.count ? .bytes(elements) : nil
        }
    }

    /// The number of elements, or nil for `.binary` (which needs the datatype to count).
    public var count: Int? {
        switch self {
        case .bool(let v): v.count
        case .uint8(let v): v.count
        case .uint16(let v): v.count
        case .uint32(let v): v.count
        case .uint64(let v): v.count
        case .int8(let v): v.count
        case .int16(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .fp32(let v): v.count
        case .fp64(let v): v.count
        case .bytes(let v): v.count
        case .binary: nil
        }
    }
}
