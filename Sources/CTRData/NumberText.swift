#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses a number from a data file's field bytes without making a String.
enum NumberText {
    /// The value of `bytes` as a finite number (`5`, `-3`, `2.5`, `1e-3`, surrounding spaces allowed), or nil.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var start = 0, end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D) { end -= 1 }
        guard start < end else { return nil }
        // Integers, the common case, without strtod.
        var i = start, negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        if i < end && end - i <= 15 {
            var value: Int64 = 0, j = i
            while j < end, bytes[j] &- UInt8(ascii: "0") <= 9 {
                value = value * 10 + Int64(bytes[j] &- UInt8(ascii: "0"))
                j += 1
            }
            if j == end { return Double(negative ? -value : value) }
        }
        // Anything else through strtod on a NUL-terminated copy; it must consume every byte.
        let count = end - start
        guard count < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer -> Double? in
            for k in 0..<count { buffer[k] = CChar(bitPattern: bytes[start + k]) }
            buffer[count] = 0
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &stop)
            guard let stop, stop == buffer.baseAddress! + count, value.isFinite else { return nil }
            // strtod also reads hex floats, "inf" and "nan"; data files mean none of them.
            for k in 0..<count where bytes[start + k] == UInt8(ascii: "x") || bytes[start + k] == UInt8(ascii: "X") { return nil }
            return value
        }
    }
}

/// Reads a label written as a boolean (`true`/`false`, any case, surrounding spaces allowed) as 1 or 0.
enum BooleanText {
    /// 1 for true, 0 for false, nil for anything else.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var start = 0, end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D) { end -= 1 }
        func matches(_ word: StaticString) -> Bool {
            guard end - start == word.utf8CodeUnitCount else { return false }
            let letters = word.utf8Start
            for k in 0..<(end - start) where bytes[start + k] | 0x20 != letters[k] { return false }
            return true
        }
        if matches("true") { return 1 }
        if matches("false") { return 0 }
        return nil
    }
}
