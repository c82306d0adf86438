import Foundation
import Testing

@testable import CTRServer

/// Validates `bytes` as one JSON document and returns the error message, or nil when valid.
private func validationError(_ bytes: [UInt8], maxDepth: Int = 64) -> String? {
    do {
        try bytes.withUnsafeBytes { try JSONScanner.validate($0, maxDepth: maxDepth) }
        return nil
    } catch let error as RequestDecodeError {
        return error.message
    } catch {
        return "unexpected error \(error)"
    }
}

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Runs `body` with a scanner over `text`.
private func withScanner<R>(_ text: String, _ body: (inout JSONScanner) throws -> R) rethrows -> R {
    let bytes = utf8(text)
    return try bytes.withUnsafeBytes { raw in
        var scanner = JSONScanner(raw)
        return try body(&scanner)
    }
}

@Suite("JSONScanner")
struct JSONScannerTests {
    static let validDocuments: [String] = [
        "{}", "[]", "0", "-0", "1.5e+10", "1E-2", "-0.0", "123456789012345678901234567890", "\"a\"", "true", "false",
        "null", " \t\r\n{\"a\" : [1, 2.5, -3e-2, {\"b\": null}, [], {}] } \n",
        "\"\\u00e9\\ud83d\\ude00\"", "\"é 😀 中\"", "\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"", "\"\\u0000\"",
        "{\"a\":1,\"a\":2}",  // duplicate keys are syntactically valid; decoders reject those that matter
        String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
        "[1e400, -1e-400]",  // syntax only; conversion reports the range
    ]

    @Test("accepts valid JSON", arguments: validDocuments)
    func acceptsValid(_ text: String) {
        #expect(validationError(utf8(text)) == nil)
    }

    static let invalidDocuments: [(String, String)] = [
        ("[1,]", "trailing comma before ']' at byte 3"),
        ("{\"a\":1,}", "expected '\"' to begin an object key at byte 7, found '}'"),
        ("01", "leading zeros are not allowed in numbers at byte 0"),
        ("[-01]", "leading zeros are not allowed in numbers at byte 1"),
        ("1.", "invalid number at byte 0 (expected a digit after '.')"),
        ("1.e5", "invalid number at byte 0 (expected a digit after '.')"),
        (".5", "expected a JSON value at byte 0, found '.'"),
        ("+1", "expected a JSON value at byte 0, found '+'"),
        ("1e", "invalid number at byte 0 (expected a digit in the exponent)"),
        ("1e+", "invalid number at byte 0 (expected a digit in the exponent)"),
        ("-", "invalid number at byte 0 (expected a digit)"),
        ("0x10", "unexpected 'x' after the end of the JSON value at byte 1"),
        ("NaN", "expected a JSON value at byte 0, found 'N' (NaN and Infinity are not JSON)"),
        ("[Infinity]", "expected a JSON value at byte 1, found 'I' (NaN and Infinity are not JSON)"),
        ("-Infinity", "invalid number at byte 0 (expected a digit)"),
        ("\"a\tb\"", "unescaped control character 0x09 in string at byte 2"),
        ("\"a\nb\"", "unescaped control character 0x0A in string at byte 2"),
        ("\"\\x\"", "invalid escape '\\x' in string at byte 1"),
        ("\"\\'\"", "invalid escape '\\'' in string at byte 1"),
        ("\"\\u12\"", "truncated \\u escape at byte 1"),
        ("\"\\u12G4\"", "invalid \\u escape at byte 1 (expected 4 hex digits)"),
        ("\"\\ud800\"", "unpaired high surrogate \\uD800 at byte 1"),
        ("\"\\ud800\\u0041\"", "unpaired high surrogate \\uD800 at byte 1"),
        ("\"\\udc00\"", "unpaired low surrogate \\uDC00 at byte 1"),
        ("{\"a\":1} x", "unexpected 'x' after the end of the JSON value at byte 8"),
        ("{\"a\":1}{}", "unexpected '{' after the end of the JSON value at byte 7"),
        ("[1 2]", "expected ',' or ']' at byte 3, found '2'"),
        ("[1,,2]", "expected a JSON value at byte 3, found ','"),
        ("{\"a\" 1}", "expected ':' after object key at byte 5, found '1'"),
        ("{a:1}", "expected '\"' to begin an object key at byte 1, found 'a'"),
        ("{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7, found '\"'"),
        ("\"abc", "unterminated string starting at byte 0"),
        ("[", "expected a JSON value at byte 1, found end of input"),
        ("", "expected a JSON value at byte 0, found end of input"),
        ("   ", "expected a JSON value at byte 3, found end of input"),
        ("tru", "invalid literal at byte 0 (expected true)"),
        ("nul", "invalid literal at byte 0 (expected null)"),
        ("nullx", "invalid literal at byte 0 (expected null)"),
        ("True", "expected a JSON value at byte 0, found 'T'"),
        ("'a'", "expected a JSON value at byte 0, found '''"),
        ("[1]\u{0}", "unexpected '\\x00' after the end of the JSON value at byte 3"),
        ("\u{FEFF}{}", "expected a JSON value at byte 0, found '\\xEF'"),
        ("{\"a\":}", "expected a JSON value at byte 5, found '}'"),
        ("[1]]", "unexpected ']' after the end of the JSON value at byte 3"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "JSON nested deeper than 64 levels at byte 64"),
    ]

    @Test("rejects invalid JSON with a positioned message", arguments: invalidDocuments)
    func rejectsInvalid(_ text: String, _ message: String) {
        #expect(validationError(utf8(text)) == message)
    }

    static let invalidUTF8: [([UInt8], String)] = [
        ([0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 byte 0xC0 at byte 1"),  // overlong '/'
        ([0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8 sequence at byte 1"),  // overlong 3-byte
        ([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 sequence at byte 1"),  // encoded surrogate U+D800
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 sequence at byte 1"),  // above U+10FFFF
        ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8 byte 0xF5 at byte 1"),
        ([0x22, 0xE2, 0x82, 0x22], "invalid UTF-8 sequence at byte 1"),  // truncated before the quote
        ([0x22, 0xE2, 0x82], "truncated UTF-8 sequence at byte 1"),  // truncated at end of input
        ([0x22, 0x80, 0x22], "invalid UTF-8 byte 0x80 at byte 1"),  // lone continuation byte
        ([0x22, 0xFF, 0x22], "invalid UTF-8 byte 0xFF at byte 1"),
        ([0x7B, 0x22, 0x61, 0xC3, 0x22, 0x3A, 0x31, 0x7D], "invalid UTF-8 sequence at byte 3"),  // in a key
    ]

    @Test("rejects invalid UTF-8", arguments: invalidUTF8)
    func rejectsInvalidUTF8(_ bytes: [UInt8], _ message: String) {
        #expect(validationError(bytes) == message)
    }

    @Test("accepts every valid UTF-8 boundary scalar")
    func acceptsUTF8Boundaries() {
        for scalar in ["\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}"] {
            #expect(validationError(utf8("\"\(scalar)\"")) == nil, "\(scalar.unicodeScalars.first!.value)")
        }
    }

    @Test("depth limit is configurable")
    func depthLimit() {
        #expect(validationError(utf8("[[[]]]"), maxDepth: 3) == nil)
        #expect(validationError(utf8("[[[[]]]]"), maxDepth: 3) == "JSON nested deeper than 3 levels at byte 3")
        #expect(validationError(utf8("{\"a\":{\"b\":{\"c\":{}}}}"), maxDepth: 3) == "JSON nested deeper than 3 levels at byte 15")
    }

    @Test("integers are exact Int64 with overflow detection")
    func integers() throws {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("-0", 0), ("9007199254740993", 9_007_199_254_740_993), ("-9007199254740993", -9_007_199_254_740_993),
            ("9223372036854775807", .max), ("-9223372036854775808", .min), ("9223372036854775808", nil),
            ("-9223372036854775809", nil), ("12345678901234567890", nil), ("10000000000000000000", nil),
            ("1.0", nil), ("1e2", nil),
        ]
        for (text, expected) in cases {
            let number = try withScanner(text) { try $0.readNumber() }
            #expect(number.int64 == expected, "\(text)")
        }
    }

    @Test("floats are correctly rounded, for Float without double rounding")
    func floats() throws {
        #expect(try withScanner("0.1") { s in try s.float(s.readNumber()) } == Float(0.1))
        #expect(try withScanner("0.1") { s in try s.double(s.readNumber()) } == 0.1)
        #expect(try withScanner("0.10000000149011612") { s in try s.float(s.readNumber()) } == Float(0.1))
        #expect(try withScanner("9007199254740993") { s in try s.double(s.readNumber()) } == 9_007_199_254_740_992)
        #expect(try withScanner("2.2250738585072011e-308") { s in try s.double(s.readNumber()) } == Double("2.2250738585072011e-308")!)
        #expect(try withScanner("-0.0") { s in try s.double(s.readNumber()) }.sign == .minus)
        #expect(try withScanner("1e-400") { s in try s.double(s.readNumber()) } == 0)
        // A value whose nearest Double lies halfway between two Floats: rounding via Double would be wrong.
        #expect(try withScanner("1.00000005960464477539062500001") { s in try s.float(s.readNumber()) } == Float(bitPattern: 0x3F80_0001))
        #expect(throws: RequestDecodeError.self) { try withScanner("1e400") { s in try s.double(s.readNumber()) } }
        #expect(throws: RequestDecodeError.self) { try withScanner("1e39") { s in try s.float(s.readNumber()) } }
    }

    @Test("random numbers parse exactly like the standard library")
    func randomNumbers() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let double = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF)
            let float = Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &generator))
            let parsedDouble = try withScanner(double.description) { s in try s.double(s.readNumber()) }
            #expect(parsedDouble.bitPattern == double.bitPattern, "\(double)")
            let parsedFloat = try withScanner(float.description) { s in try s.float(s.readNumber()) }
            #expect(parsedFloat.bitPattern == float.bitPattern, "\(float)")
            // Short decimals in the fast path's range, checked against Float(String)/Double(String).
            let digits = String(UInt64.random(in: 0...99_999_999, using: &generator))
            let text = "\(digits).\(Int.random(in: 0...999_999, using: &generator))e\(Int.random(in: -12...12, using: &generator))"
            #expect(try withScanner(text) { s in try s.double(s.readNumber()) } == Double(text)!, "\(text)")
            #expect(try withScanner(text) { s in try s.float(s.readNumber()) } == Float(text)!, "\(text)")
        }
    }

    @Test("strings unescape to UTF-8")
    func unescape() {
        let cases: [(String, String)] = [
            ("\"plain\"", "plain"), ("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d"), ("\"\\b\\f\\n\\r\\t\"", "\u{8}\u{C}\n\r\t"),
            ("\"\\u00e9\\u4e2d\\ud83d\\ude00x\"", "é中😀x"), ("\"\\u0000\"", "\u{0}"), ("\"é😀\"", "é😀"),
        ]
        for (json, expected) in cases {
            let value = withScanner(json) { s -> String in
                let token = try! s.readString()
                return s.string(token)
            }
            #expect(value == expected)
        }
    }
}
