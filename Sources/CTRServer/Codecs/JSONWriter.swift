/// Appends JSON text straight to a byte array: no intermediate Strings on the hot path.
///
/// Floats use Swift's shortest round-trip formatting (`Float.description`): the text parses back to
/// the same Float, and a Float's text is at most 15 bytes, which Swift keeps inline ("small string"),
/// so formatting does not allocate. Non-finite values have no JSON form and are written as `null`.
public enum JSONWriter {
    /// Appends the ASCII bytes of a static string (JSON punctuation and keys).
    @inline(__always)
    public static func appendRaw(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` as the shortest text that reads back as the same Float, or `null` if not finite.
    @inline(__always)
    public static func appendFloat(_ value: Float, to output: inout [UInt8]) {
        guard value.isFinite else {
            appendRaw("null", to: &output)
            return
        }
        // Swift writes integral values as "5.0" and large/small ones as "1e-05": all valid JSON numbers.
        var text = value.description
        text.withUTF8 { output.append(contentsOf: $0) }
    }

    /// Appends `value` as the shortest text that reads back as the same Double, or `null` if not finite.
    @inline(__always)
    public static func appendDouble(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else {
            appendRaw("null", to: &output)
            return
        }
        var text = value.description
        text.withUTF8 { output.append(contentsOf: $0) }
    }

    /// Appends a signed integer in decimal.
    @inline(__always)
    public static func appendInteger<T: BinaryInteger>(_ value: T, to output: inout [UInt8]) {
        if value == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        // Digits are produced backwards into a fixed stack buffer: at most 20 for 64-bit values.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
            var i = digits.count
            while magnitude > 0 {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            }
            if value < 0 { output.append(UInt8(ascii: "-")) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// Appends `true` or `false`.
    @inline(__always)
    public static func appendBool(_ value: Bool, to output: inout [UInt8]) {
        value ? appendRaw("true", to: &output) : appendRaw("false", to: &output)
    }

    /// Appends `text` as a quoted JSON string, escaping `"`, `\` and control characters.
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: UnsafeRawBufferPointer($0), to: &output) }
    }

    /// Appends valid UTF-8 `bytes` as a quoted JSON string, escaping `"`, `\` and control characters.
    public static func appendString(utf8 bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
            output.append(UInt8(ascii: "\\"))
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(b)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(hex.utf8Start[Int(b >> 4)])
                output.append(hex.utf8Start[Int(b & 0xF)])
            }
            runStart = i + 1
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }
}
