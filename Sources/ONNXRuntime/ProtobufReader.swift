/// Reads protocol-buffer wire format from borrowed bytes: field keys, varints, fixed-width and length-delimited values.
///
/// Only what the ONNX initializer reader needs; it never copies a length-delimited value, it hands back the range, so
/// a 2 GB `raw_data` costs nothing to find. Every read is bounds-checked and reports the byte offset it failed at.
struct ProtobufReader {
    /// What the wire type of a field key says about the value after it.
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// A failed read, with the absolute byte offset where the message stopped making sense.
    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    let bytes: UnsafeRawBufferPointer
    /// Absolute offset of `bytes` in the file, so failures and ranges name file positions.
    let base: Int
    private(set) var position: Int
    let end: Int

    /// A reader over `bytes[range]`; `base` is the file offset of `bytes[0]`.
    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>, base: Int = 0) {
        self.bytes = bytes
        self.base = base
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    mutating func varint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw Failure(offset: base + position, reason: "truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Failure(offset: base + position - 1, reason: "varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws(Failure) -> (number: Int, type: WireType)? {
        guard !isAtEnd else { return nil }
        let at = position
        let key = try varint()
        guard let type = WireType(rawValue: key & 7), key >> 3 > 0 else {
            throw Failure(offset: base + at, reason: "invalid field key \(key)")
        }
        return (Int(key >> 3), type)
    }

    /// The range of a length-delimited value (bytes, string, embedded message, packed repeated field).
    mutating func lengthDelimited() throws(Failure) -> Range<Int> {
        let at = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw Failure(offset: base + at, reason: "length \(length) runs past the end of its message (\(end - position) bytes left)")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func string() throws(Failure) -> String {
        let range = try lengthDelimited()
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Skips a value of `type` (groups are not used by ONNX and are refused).
    mutating func skip(_ type: WireType) throws(Failure) {
        switch type {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw Failure(offset: base + position, reason: "protobuf groups are not supported")
        }
    }

    private mutating func advance(_ count: Int) throws(Failure) {
        guard end - position >= count else { throw Failure(offset: base + position, reason: "truncated fixed-width value") }
        position += count
    }

    /// Every varint of a packed repeated field (or the one value of an unpacked element).
    mutating func varints(_ type: WireType, into values: inout [Int64]) throws(Failure) {
        if type == .varint {
            values.append(Int64(bitPattern: try varint()))
            return
        }
        guard type == .lengthDelimited else { throw Failure(offset: base + position, reason: "expected a varint or packed varints") }
        let range = try lengthDelimited()
        var inner = ProtobufReader(bytes, range: range, base: base)
        while !inner.isAtEnd { values.append(Int64(bitPattern: try inner.varint())) }
    }
}
