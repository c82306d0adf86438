import Foundation

/// A cursor over protobuf's binary wire format in borrowed bytes: tags, varints, fixed-width numbers and
/// length-delimited ranges, with every read bounds-checked. What ``ModelInferWire`` needs to read a
/// ModelInferRequest in place; it holds no copy and must not outlive the bytes.
struct ProtobufReader {
    /// How a field's value is laid out on the wire (groups, wire types 3 and 4, are refused as malformed).
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// Bytes that are not valid protobuf, with what was wrong.
    struct Malformed: Error {
        let detail: String
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    private let end: Int

    /// A reader of `range` of `bytes` (offsets stay absolute: ranges it returns index `bytes`).
    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { offset >= end }

    /// The next field's number and wire type.
    mutating func field() throws(Malformed) -> (number: UInt64, wireType: WireType) {
        let tag = try varint()
        guard let wireType = WireType(rawValue: tag & 7) else { throw Malformed(detail: "wire type \(tag & 7) at byte \(offset)") }
        // Field numbers are 1 ... 2^29 - 1.
        guard (1...536_870_911).contains(tag >> 3) else { throw Malformed(detail: "field number \(tag >> 3) at byte \(offset)") }
        return (tag >> 3, wireType)
    }

    mutating func varint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end {
            let byte = bytes[offset]
            offset += 1
            // The tenth byte may carry only the 64th bit.
            guard shift < 63 || byte <= 1 else { throw Malformed(detail: "varint over 64 bits at byte \(offset)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Malformed(detail: "truncated varint at byte \(offset)")
    }

    mutating func fixed64() throws(Malformed) -> UInt64 {
        guard end - offset >= 8 else { throw Malformed(detail: "truncated fixed64 at byte \(offset)") }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The byte range of a length-delimited value (a string, bytes, a message or a packed array).
    mutating func lengthDelimited() throws(Malformed) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - offset) else { throw Malformed(detail: "length \(length) past the end at byte \(offset)") }
        let start = offset
        offset += Int(length)
        return start..<offset
    }

    /// A length-delimited value as UTF-8 text (proto3 strings must be valid UTF-8).
    mutating func string() throws(Malformed) -> String {
        let range = try lengthDelimited()
        let utf8 = UnsafeRawBufferPointer(rebasing: bytes[range]).assumingMemoryBound(to: UInt8.self)
        // `String(decoding:)` on a typed buffer is specialised; `String(validating:)` went through generic
        // metadata look-ups (a third of this reader's time, perf 2026-12-06). Decoding repairs invalid UTF-8,
        // so the text is valid exactly when its bytes come back unchanged.
        var text = String(decoding: utf8, as: UTF8.self)
        let unchanged = text.withUTF8 { decoded in
            decoded.count == utf8.count && (utf8.isEmpty || memcmp(decoded.baseAddress!, utf8.baseAddress!, utf8.count) == 0)
        }
        guard unchanged else {
            throw Malformed(detail: "a string field that is not UTF-8 at byte \(range.lowerBound)")
        }
        return text
    }

    /// Passes over a value of an unknown field.
    mutating func skip(_ wireType: WireType) throws(Malformed) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32:
            guard end - offset >= 4 else { throw Malformed(detail: "truncated fixed32 at byte \(offset)") }
            offset += 4
        }
    }

    /// A reader of a nested message's range.
    func nested(_ range: Range<Int>) -> ProtobufReader {
        ProtobufReader(bytes, range: range)
    }
}
