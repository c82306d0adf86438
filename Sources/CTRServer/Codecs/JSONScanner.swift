/// A strict, single-pass, non-allocating JSON reader over borrowed bytes (RFC 8259).
///
/// The scanner is a pull tokenizer: request decoders walk the document with `beginObject`,
/// `readKey`, `nextMember`, `beginArray`, `nextElement`, `readString`, `readNumber`, and
/// `skipValue`, deciding at each step what they expect, so no tree is ever built. Everything RFC 8259
/// forbids is rejected where it is found, with the byte offset: trailing commas, leading zeros,
/// `NaN`/`Infinity`, unescaped control characters, invalid escapes, unpaired surrogates, invalid UTF-8
/// (overlong forms, encoded surrogates, code points above U+10FFFF), and anything but whitespace after
/// the top-level value. Nesting deeper than `maxDepth` is rejected so hostile input cannot exhaust the
/// stack. Duplicate keys are the caller's business: only the caller knows which keys matter.
///
/// The scanner borrows the bytes: it must not outlive the buffer it was created from.
public struct JSONScanner {
    /// A string token: the byte range of its content between the quotes, still escaped.
    public struct StringToken: Sendable, Equatable {
        /// Offset of the first content byte (just after the opening quote).
        public let start: Int
        /// Offset of the closing quote (exclusive end of the content).
        public let end: Int
        /// Whether the content contains backslash escapes, i.e. the raw bytes are not the value.
        public let hasEscapes: Bool
        /// The number of raw content bytes.
        public var rawCount: Int { end - start }
    }

    /// A number token with what the scan learned about it, so common conversions need no re-scan.
    public struct NumberToken: Sendable, Equatable {
        /// Offset of the first byte of the number text.
        public let start: Int
        /// Exclusive end offset of the number text.
        public let end: Int
        /// True when the text has neither a fraction nor an exponent.
        public let isIntegerSyntax: Bool
        /// The exact value when `isIntegerSyntax` and it fits in Int64; nil otherwise.
        public let int64: Int64?
        // Significant decimal digits (at most 19) and the power of ten that scales them, for the
        // exact fast path of Clinger's algorithm; `mantissaIsExact` is false when digits were dropped.
        let mantissa: UInt64
        let exponent10: Int
        let mantissaIsExact: Bool
        let isNegative: Bool
    }

    @usableFromInline let base: UnsafePointer<UInt8>?
    @usableFromInline let end: Int
    /// The offset of the next byte to be read.
    public private(set) var position: Int
    /// The current nesting depth of open objects and arrays.
    public private(set) var depth: Int = 0
    /// The deepest nesting accepted.
    public let maxDepth: Int

    /// Creates a scanner over `bytes`, which must stay valid while the scanner is used.
    public init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) {
        self.base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        self.end = bytes.count
        self.position = 0
        self.maxDepth = maxDepth
    }

    /// Validates that `bytes` hold exactly one JSON value, throwing the first violation found.
    public static func validate(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(RequestDecodeError) {
        var scanner = JSONScanner(bytes, maxDepth: maxDepth)
        try scanner.skipValue()
        try scanner.finish()
    }

    // MARK: - Bytes

    /// The byte at `offset`; callers check `offset < end` first.
    @inline(__always) @usableFromInline
    func byte(at offset: Int) -> UInt8 {
        base.unsafelyUnwrapped[offset]
    }

    /// The raw bytes of `offset..<offset+count`, valid as long as the scanned buffer is.
    @inline(__always)
    public func rawBytes(from start: Int, to stop: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0 + start) }, count: stop - start)
    }

    /// Whether every byte has been consumed.
    public var isAtEnd: Bool { position >= end }

    /// Skips JSON whitespace (space, tab, line feed, carriage return) and nothing else.
    @inline(__always)
    public mutating func skipWhitespace() {
        while position < end {
            let b = byte(at: position)
            guard b == UInt8(ascii: " ") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
                || b == UInt8(ascii: "\t")
            else { return }
            position += 1
        }
    }

    /// Skips whitespace and returns the next byte without consuming it, or nil at the end.
    @inline(__always)
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? byte(at: position) : nil
    }

    /// Requires that only whitespace remains after the top-level value.
    public mutating func finish() throws(RequestDecodeError) {
        skipWhitespace()
        if position < end {
            throw syntaxError("unexpected \(found(at: position)) after the end of the JSON value at byte \(position)", at: position)
        }
    }

    // MARK: - Objects and arrays

    /// Consumes `{`; returns true when a member follows, false when the object was `{}`.
    @inline(__always)
    public mutating func beginObject() throws(RequestDecodeError) -> Bool {
        guard peek() == UInt8(ascii: "{") else { throw expected("'{'") }
        try enter()
        position += 1
        if peek() == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return false
        }
        return true
    }

    /// Reads a member key and the `:` after it.
    @inline(__always)
    public mutating func readKey() throws(RequestDecodeError) -> StringToken {
        guard peek() == UInt8(ascii: "\"") else { throw expected("'\"' to begin an object key") }
        let key = try readString()
        guard peek() == UInt8(ascii: ":") else { throw expected("':' after object key") }
        position += 1
        return key
    }

    /// After a member's value: consumes `,` and returns true, or consumes `}` and returns false.
    @inline(__always)
    public mutating func nextMember() throws(RequestDecodeError) -> Bool {
        switch peek() ?? 0 {
        case UInt8(ascii: ","):
            position += 1
            return true
        case UInt8(ascii: "}"):
            position += 1
            depth -= 1
            return false
        default:
            throw expected("',' or '}'")
        }
    }

    /// Consumes `[`; returns true when an element follows, false when the array was `[]`.
    @inline(__always)
    public mutating func beginArray() throws(RequestDecodeError) -> Bool {
        guard peek() == UInt8(ascii: "[") else { throw expected("'['") }
        try enter()
        position += 1
        if peek() == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return false
        }
        return true
    }

    /// After an element: consumes `,` and returns true, or consumes `]` and returns false.
    @inline(__always)
    public mutating func nextElement() throws(RequestDecodeError) -> Bool {
        switch peek() ?? 0 {
        case UInt8(ascii: ","):
            position += 1
            // A value must follow: `[1,]` is a trailing comma, which RFC 8259 forbids.
            if peek() == UInt8(ascii: "]") { throw syntaxError("trailing comma before ']' at byte \(position)", at: position) }
            return true
        case UInt8(ascii: "]"):
            position += 1
            depth -= 1
            return false
        default:
            throw expected("',' or ']'")
        }
    }

    @inline(__always)
    mutating func enter() throws(RequestDecodeError) {
        if depth >= maxDepth {
            throw RequestDecodeError(.malformedJSON, "JSON nested deeper than \(maxDepth) levels at byte \(position)", offset: position)
        }
        depth += 1
    }

    // MARK: - Literals

    /// Consumes `null` if it is next and returns true; returns false (consuming nothing) otherwise.
    @inline(__always)
    public mutating func consumeNull() throws(RequestDecodeError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try readLiteral("null")
        return true
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(RequestDecodeError) -> Bool {
        switch peek() ?? 0 {
        case UInt8(ascii: "t"):
            try readLiteral("true")
            return true
        case UInt8(ascii: "f"):
            try readLiteral("false")
            return false
        default:
            throw expected("true or false")
        }
    }

    mutating func readLiteral(_ literal: StaticString) throws(RequestDecodeError) {
        let count = literal.utf8CodeUnitCount
        let start = position
        if end - start >= count {
            let text = literal.utf8Start
            var i = 0
            while i < count && byte(at: start + i) == text[i] { i += 1 }
            // The literal must end there: `nullx` and `truex` are not JSON.
            if i == count && (start + count == end || !Self.isIdentifierByte(byte(at: start + count))) {
                position += count
                return
            }
        }
        throw syntaxError("invalid literal at byte \(start) (expected \(literal))", at: start)
    }

    @inline(__always)
    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    // MARK: - Strings

    /// Reads a string at the current position, validating escapes and UTF-8, without copying it.
    @inline(__always)
    public mutating func readString() throws(RequestDecodeError) -> StringToken {
        guard peek() == UInt8(ascii: "\"") else { throw expected("a string") }
        let open = position
        var i = position + 1
        var hasEscapes = false
        while true {
            guard i < end else {
                throw syntaxError("unterminated string starting at byte \(open)", at: open)
            }
            let b = byte(at: i)
            if b == UInt8(ascii: "\"") { break }
            if b >= 0x20 && b < 0x80 && b != UInt8(ascii: "\\") {
                i += 1
            } else if b == UInt8(ascii: "\\") {
                hasEscapes = true
                i = try validateEscape(at: i)
            } else if b < 0x20 {
                throw syntaxError("unescaped control character 0x\(Self.hex2(b)) in string at byte \(i)", at: i)
            } else {
                i = try validateUTF8(at: i)
            }
        }
        position = i + 1
        return StringToken(start: open + 1, end: i, hasEscapes: hasEscapes)
    }

    /// Validates the escape starting with the backslash at `i`; returns the offset after it.
    mutating func validateEscape(at i: Int) throws(RequestDecodeError) -> Int {
        guard i + 1 < end else { throw syntaxError("unterminated string: escape at end of input at byte \(i)", at: i) }
        switch byte(at: i + 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2, escapeAt: i)
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw syntaxError("unpaired low surrogate \\u\(Self.hex4String(unit)) at byte \(i)", at: i)
            }
            guard unit >= 0xD800 && unit <= 0xDBFF else { return i + 6 }
            // A high surrogate must be followed at once by an escaped low surrogate.
            guard i + 7 < end, byte(at: i + 6) == UInt8(ascii: "\\"), byte(at: i + 7) == UInt8(ascii: "u") else {
                throw syntaxError("unpaired high surrogate \\u\(Self.hex4String(unit)) at byte \(i)", at: i)
            }
            let low = try hex4(at: i + 8, escapeAt: i + 6)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw syntaxError("unpaired high surrogate \\u\(Self.hex4String(unit)) at byte \(i)", at: i)
            }
            return i + 12
        default:
            throw syntaxError("invalid escape '\\\(Self.describe(byte(at: i + 1)))' in string at byte \(i)", at: i)
        }
    }

    func hex4(at start: Int, escapeAt: Int) throws(RequestDecodeError) -> UInt32 {
        guard start + 4 <= end else { throw syntaxError("truncated \\u escape at byte \(escapeAt)", at: escapeAt) }
        var value: UInt32 = 0
        for k in 0..<4 {
            let b = byte(at: start + k)
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b &- UInt8(ascii: "A") &+ 10
            default: throw syntaxError("invalid \\u escape at byte \(escapeAt) (expected 4 hex digits)", at: escapeAt)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (Unicode Table 3-7); returns the offset after it.
    func validateUTF8(at i: Int) throws(RequestDecodeError) -> Int {
        let lead = byte(at: i)
        var length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F  // U+D800...U+DFFF are not scalar values
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F  // nothing above U+10FFFF
        default: throw syntaxError("invalid UTF-8 byte 0x\(Self.hex2(lead)) at byte \(i)", at: i)
        }
        guard i + length <= end else { throw syntaxError("truncated UTF-8 sequence at byte \(i)", at: i) }
        let second = byte(at: i + 1)
        guard second >= secondLow && second <= secondHigh else {
            throw syntaxError("invalid UTF-8 sequence at byte \(i)", at: i)
        }
        var k = 2
        while k < length {
            let b = byte(at: i + k)
            guard b & 0xC0 == 0x80 else { throw syntaxError("invalid UTF-8 sequence at byte \(i)", at: i) }
            k += 1
        }
        return i + length
    }

    /// Appends the unescaped UTF-8 content of `token` to `output`.
    public func unescape(_ token: StringToken, into output: inout [UInt8]) {
        guard token.hasEscapes else {
            output.append(contentsOf: rawBytes(from: token.start, to: token.end))
            return
        }
        var i = token.start
        var runStart = i
        while i < token.end {
            guard byte(at: i) == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            output.append(contentsOf: rawBytes(from: runStart, to: i))
            let kind = byte(at: i + 1)
            switch kind {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                // Already validated by readString, so the digits and surrogate pairing are sound.
                var scalar = (try? hex4(at: i + 2, escapeAt: i)) ?? 0xFFFD
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = (try? hex4(at: i + 8, escapeAt: i)) ?? 0xDC00
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                Self.appendUTF8(scalar, to: &output)
                i += 6
                runStart = i
                continue
            default: output.append(kind)  // '"', '\\' and '/' stand for themselves
            }
            i += 2
            runStart = i
        }
        output.append(contentsOf: rawBytes(from: runStart, to: token.end))
    }

    /// Whether the unescaped content of `token` equals `literal` (an ASCII key name).
    @inline(__always)
    public func string(_ token: StringToken, equals literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        if !token.hasEscapes {
            guard token.rawCount == count else { return false }
            let text = literal.utf8Start
            for k in 0..<count where byte(at: token.start + k) != text[k] { return false }
            return true
        }
        var decoded: [UInt8] = []
        unescape(token, into: &decoded)
        return decoded.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: count))
    }

    /// The unescaped content of `token` as a String (allocates; for names and error messages).
    public func string(_ token: StringToken) -> String {
        if !token.hasEscapes {
            return String(decoding: rawBytes(from: token.start, to: token.end), as: UTF8.self)
        }
        var decoded: [UInt8] = []
        unescape(token, into: &decoded)
        return String(decoding: decoded, as: UTF8.self)
    }

    static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | (scalar >> 6)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | (scalar >> 12)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            output.append(UInt8(0xF0 | (scalar >> 18)))
            output.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    // MARK: - Numbers

    /// Reads a number with the exact RFC 8259 grammar `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    @inline(__always)
    public mutating func readNumber() throws(RequestDecodeError) -> NumberToken {
        _ = peek()
        let start = position
        var i = start
        let negative = i < end && byte(at: i) == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < end, Self.isDigit(byte(at: i)) else {
            throw syntaxError("invalid number at byte \(start) (expected a digit)", at: start)
        }
        var mantissa: UInt64 = 0
        var significant = 0  // digits kept in `mantissa`, counted from the first non-zero one
        var exact = true
        var exponent10 = 0
        if byte(at: i) == UInt8(ascii: "0") {
            i += 1
            if i < end && Self.isDigit(byte(at: i)) {
                throw syntaxError("leading zeros are not allowed in numbers at byte \(start)", at: start)
            }
        } else {
            while i < end {
                let b = byte(at: i)
                guard Self.isDigit(b) else { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(b &- UInt8(ascii: "0"))
                    significant += 1
                } else {
                    exponent10 += 1
                    if b != UInt8(ascii: "0") { exact = false }
                }
                i += 1
            }
        }
        var isInteger = true
        if i < end && byte(at: i) == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < end, Self.isDigit(byte(at: i)) else {
                throw syntaxError("invalid number at byte \(start) (expected a digit after '.')", at: start)
            }
            while i < end {
                let b = byte(at: i)
                guard Self.isDigit(b) else { break }
                if significant < 19 {
                    if mantissa != 0 || b != UInt8(ascii: "0") {
                        mantissa = mantissa &* 10 &+ UInt64(b &- UInt8(ascii: "0"))
                        significant += 1
                    }
                    exponent10 -= 1
                } else if b != UInt8(ascii: "0") {
                    exact = false
                }
                i += 1
            }
        }
        if i < end && (byte(at: i) == UInt8(ascii: "e") || byte(at: i) == UInt8(ascii: "E")) {
            isInteger = false
            i += 1
            var exponentNegative = false
            if i < end && (byte(at: i) == UInt8(ascii: "+") || byte(at: i) == UInt8(ascii: "-")) {
                exponentNegative = byte(at: i) == UInt8(ascii: "-")
                i += 1
            }
            guard i < end, Self.isDigit(byte(at: i)) else {
                throw syntaxError("invalid number at byte \(start) (expected a digit in the exponent)", at: start)
            }
            var exponent = 0
            while i < end {
                let b = byte(at: i)
                guard Self.isDigit(b) else { break }
                // Clamp: beyond this every value over- or underflows anyway.
                if exponent < 100_000 { exponent = exponent * 10 + Int(b &- UInt8(ascii: "0")) }
                i += 1
            }
            exponent10 += exponentNegative ? -exponent : exponent
        }
        position = i
        var int64: Int64? = nil
        if isInteger && exact && exponent10 == 0 {
            if negative {
                if mantissa <= UInt64(Int64.max) + 1 { int64 = Int64(truncatingIfNeeded: 0 &- mantissa) }
            } else if mantissa <= UInt64(Int64.max) {
                int64 = Int64(mantissa)
            }
        }
        return NumberToken(
            start: start, end: i, isIntegerSyntax: isInteger, int64: int64,
            mantissa: mantissa, exponent10: exponent10, mantissaIsExact: exact, isNegative: negative)
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    /// The correctly rounded Double value of `number`; throws if it overflows to infinity.
    public func double(_ number: NumberToken) throws(RequestDecodeError) -> Double {
        // Clinger's fast path: both operands exact in Double, so one IEEE operation rounds correctly.
        if number.mantissaIsExact && number.mantissa <= 1 << 53 && number.exponent10 >= -22 && number.exponent10 <= 22 {
            let m = Double(number.mantissa)
            let value = number.exponent10 < 0
                ? m / Self.powersOf10[-number.exponent10] : m * Self.powersOf10[number.exponent10]
            return number.isNegative ? -value : value
        }
        let value = Double(text(of: number)) ?? .nan
        guard value.isFinite else {
            throw RequestDecodeError(.invalidRequest, "number \(text(of: number)) at byte \(number.start) is out of range", offset: number.start)
        }
        return value
    }

    /// The correctly rounded Float value of `number` (rounded once, not via Double).
    public func float(_ number: NumberToken) throws(RequestDecodeError) -> Float {
        if number.mantissaIsExact && number.mantissa <= 1 << 24 && number.exponent10 >= -10 && number.exponent10 <= 10 {
            let m = Float(number.mantissa)
            let p = Float(Self.powersOf10[abs(number.exponent10)])
            let value = number.exponent10 < 0 ? m / p : m * p
            return number.isNegative ? -value : value
        }
        let value = Float(text(of: number)) ?? .nan
        guard value.isFinite else {
            throw RequestDecodeError(.invalidRequest, "number \(text(of: number)) at byte \(number.start) is out of range for FP32", offset: number.start)
        }
        return value
    }

    /// The source text of `number` (allocates only past 15 bytes; used on the slow paths).
    public func text(of number: NumberToken) -> String {
        String(decoding: rawBytes(from: number.start, to: number.end), as: UTF8.self)
    }

    static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    // MARK: - Skipping

    /// Reads and validates one value of any type, discarding it.
    public mutating func skipValue() throws(RequestDecodeError) {
        switch peek() ?? 0 {
        case UInt8(ascii: "{"):
            if try beginObject() {
                repeat {
                    _ = try readKey()
                    try skipValue()
                } while try nextMember()
            }
        case UInt8(ascii: "["):
            if try beginArray() {
                repeat { try skipValue() } while try nextElement()
            }
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try readNumber()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try readBool()
        case UInt8(ascii: "n"):
            try readLiteral("null")
        default:
            throw expected("a JSON value")
        }
    }

    // MARK: - Errors

    /// A malformed-JSON error at `offset`.
    public func syntaxError(_ message: String, at offset: Int) -> RequestDecodeError {
        RequestDecodeError(.malformedJSON, message, offset: offset)
    }

    /// `expected <what> at byte N, found <x>` at the current position.
    public func expected(_ what: String) -> RequestDecodeError {
        var message = "expected \(what) at byte \(position), found \(found(at: position))"
        if position < end && (byte(at: position) == UInt8(ascii: "N") || byte(at: position) == UInt8(ascii: "I")) {
            message += " (NaN and Infinity are not JSON)"
        }
        return syntaxError(message, at: position)
    }

    /// A short description of what is at `offset`: `'x'`, `byte 0x1F`, or `end of input`.
    public func found(at offset: Int) -> String {
        offset < end ? "'\(Self.describe(byte(at: offset)))'" : "end of input"
    }

    /// What a value starting at the current position is, for type errors ("a string", "true", ...).
    public mutating func describeValue() -> String {
        switch peek() ?? 0 {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"): return "true"
        case UInt8(ascii: "f"): return "false"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        case 0 where position >= end: return "end of input"
        default: return found(at: position)
        }
    }

    static func describe(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x\(hex2(b))"
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    static func hex4String(_ v: UInt32) -> String {
        hex2(UInt8(v >> 8)) + hex2(UInt8(v & 0xFF))
    }
}
