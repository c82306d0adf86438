/// Decodes the CTR predict body `{"instances":[{"I1":5,"C3":"a8cd5504",...}, ...]}` in one pass.
///
/// The accepted shape, decided here and documented for clients:
/// - The body is an object whose only key is `"instances"` (an array, possibly empty). Any other
///   top-level key is an error, so a misspelt key never silently predicts on nothing.
/// - Each instance is an object keyed by Criteo feature names `I1`...`I13` and `C1`...`C26`. Absent
///   keys are missing values; an unknown key or a repeated key is an error naming the instance.
/// - Dense `I*`: a JSON number with an integral value (`5`, `-1`, `5.0`, `1e3`), a string holding a
///   JSON integer (`"5"`, for clients that forward TSV text), or `null` / `""` for missing. `2.5`,
///   booleans, objects and arrays are errors. Values are stored as Double.
/// - Categorical `C*`: a string (any UTF-8, escapes decoded), `null` or `""` for missing (the Criteo
///   TSV convention for an empty field), or a JSON integer, taken as its literal text (`123` is the
///   same as `"123"`). Fractions, exponents, booleans, objects and arrays are errors, since their text
///   is ambiguous.
/// - At most `maxInstances` rows; more is a `.limitExceeded` error that states both counts.
public struct PredictRequestDecoder: Sendable {
    /// The most rows accepted in one request.
    public var maxInstances: Int
    /// The deepest JSON nesting accepted (the valid shape needs 3).
    public var maxDepth: Int

    /// Creates a decoder accepting at most `maxInstances` rows.
    public init(maxInstances: Int, maxDepth: Int = 16) {
        self.maxInstances = maxInstances
        self.maxDepth = maxDepth
    }

    /// Decodes `body` into `instances`, replacing its previous rows.
    public func decode(_ body: [UInt8], into instances: inout DecodedInstances) throws(RequestDecodeError) {
        let result: Result<Void, RequestDecodeError> = body.withUnsafeBytes { bytes in
            do throws(RequestDecodeError) {
                return .success(try decode(bytes, into: &instances))
            } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Decodes `body` into `instances`, replacing its previous rows; `body` may be released afterwards.
    public func decode(_ body: UnsafeRawBufferPointer, into instances: inout DecodedInstances) throws(RequestDecodeError) {
        instances.removeAll()
        var scanner = JSONScanner(body, maxDepth: maxDepth)
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(
                .invalidRequest, "request body must be a JSON object {\"instances\": [...]}, found \(scanner.describeValue())",
                offset: scanner.position)
        }
        var sawInstances = false
        if try scanner.beginObject() {
            repeat {
                let key = try scanner.readKey()
                guard scanner.string(key, equals: "instances") else {
                    throw RequestDecodeError(
                        .invalidRequest, "unknown key \(Self.quoted(scanner.string(key))) (the body must be {\"instances\": [...]})",
                        offset: key.start - 1)
                }
                if sawInstances {
                    throw RequestDecodeError(.invalidRequest, "duplicate key \"instances\"", offset: key.start - 1)
                }
                sawInstances = true
                try decodeInstances(&scanner, into: &instances)
            } while try scanner.nextMember()
        }
        try scanner.finish()
        guard sawInstances else {
            throw RequestDecodeError(.invalidRequest, "missing key \"instances\"", offset: 0)
        }
    }

    private func decodeInstances(_ scanner: inout JSONScanner, into instances: inout DecodedInstances) throws(RequestDecodeError) {
        guard scanner.peek() == UInt8(ascii: "[") else {
            throw RequestDecodeError(
                .invalidRequest, "\"instances\" must be an array of objects, found \(scanner.describeValue())",
                offset: scanner.position)
        }
        guard try scanner.beginArray() else { return }
        repeat {
            if instances.count == maxInstances {
                try throwTooMany(&scanner)
            }
            try decodeInstance(&scanner, index: instances.count, into: &instances)
        } while try scanner.nextElement()
    }

    /// Counts the remaining rows (validating them as JSON) so the error can say how many were sent.
    private func throwTooMany(_ scanner: inout JSONScanner) throws(RequestDecodeError) -> Never {
        var total = maxInstances
        repeat {
            try scanner.skipValue()
            total += 1
        } while try scanner.nextElement()
        throw RequestDecodeError(.limitExceeded, "too many instances: \(total) > \(maxInstances)")
    }

    @inline(__always)
    private func decodeInstance(_ scanner: inout JSONScanner, index: Int, into instances: inout DecodedInstances) throws(RequestDecodeError) {
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(
                .invalidRequest, "instances[\(index)]: expected an object of features, found \(scanner.describeValue())",
                offset: scanner.position)
        }
        let row = instances.appendMissingRow()
        guard try scanner.beginObject() else { return }
        var seen: UInt64 = 0
        repeat {
            let key = try scanner.readKey()
            let slot = Self.slot(of: key, in: scanner, scratch: &instances.scratch)
            guard slot >= 0 else {
                throw RequestDecodeError(
                    .invalidRequest, "instances[\(index)]: unknown feature \(Self.quoted(scanner.string(key)))",
                    offset: key.start - 1)
            }
            let bit: UInt64 = 1 << UInt64(slot)
            if seen & bit != 0 {
                throw RequestDecodeError(
                    .invalidRequest, "instances[\(index)]: duplicate feature \(Self.quoted(Self.name(ofSlot: slot)))",
                    offset: key.start - 1)
            }
            seen |= bit
            if slot < DecodedInstances.denseFieldCount {
                try decodeDense(&scanner, row: row, field: slot, index: index, into: &instances)
            } else {
                try decodeCategorical(&scanner, row: row, field: slot - DecodedInstances.denseFieldCount, index: index, into: &instances)
            }
        } while try scanner.nextMember()
    }

    @inline(__always)
    private func decodeDense(
        _ scanner: inout JSONScanner, row: Int, field: Int, index: Int, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) {
        switch scanner.peek() ?? 0 {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try scanner.readNumber()
            if let value = number.int64 {
                instances.setDense(row: row, field: field, Double(value))
                return
            }
            let value = try scanner.double(number)
            guard value.rounded(.towardZero) == value else {
                throw typeError(index: index, slot: field, expected: "an integer or null", found: "\(scanner.text(of: number))", at: number.start)
            }
            instances.setDense(row: row, field: field, value)
        case UInt8(ascii: "n"):
            _ = try scanner.consumeNull()
        case UInt8(ascii: "\""):
            let token = try scanner.readString()
            if token.rawCount == 0 { return }  // "" is missing, as an empty TSV field
            if !token.hasEscapes, let value = Self.integerText(scanner.rawBytes(from: token.start, to: token.end)) {
                instances.setDense(row: row, field: field, Double(value))
                return
            }
            throw typeError(index: index, slot: field, expected: "an integer or null", found: "the string \(Self.quoted(scanner.string(token)))", at: token.start - 1)
        default:
            let start = scanner.position
            throw typeError(index: index, slot: field, expected: "an integer or null", found: scanner.describeValue(), at: start)
        }
    }

    @inline(__always)
    private func decodeCategorical(
        _ scanner: inout JSONScanner, row: Int, field: Int, index: Int, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) {
        switch scanner.peek() ?? 0 {
        case UInt8(ascii: "\""):
            let token = try scanner.readString()
            if token.rawCount == 0 { return }  // "" is missing, as an empty TSV field
            if token.hasEscapes {
                instances.setCategorical(row: row, field: field, escaped: token, scanner: scanner)
            } else {
                instances.setCategorical(row: row, field: field, bytes: scanner.rawBytes(from: token.start, to: token.end))
            }
        case UInt8(ascii: "n"):
            _ = try scanner.consumeNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try scanner.readNumber()
            guard number.isIntegerSyntax else {
                throw typeError(
                    index: index, slot: field + DecodedInstances.denseFieldCount, expected: "a string, an integer or null",
                    found: "\(scanner.text(of: number))", at: number.start)
            }
            instances.setCategorical(row: row, field: field, bytes: scanner.rawBytes(from: number.start, to: number.end))
        default:
            let start = scanner.position
            throw typeError(
                index: index, slot: field + DecodedInstances.denseFieldCount, expected: "a string or null",
                found: scanner.describeValue(), at: start)
        }
    }

    private func typeError(index: Int, slot: Int, expected: String, found: String, at offset: Int) -> RequestDecodeError {
        RequestDecodeError(.invalidRequest, "instances[\(index)].\(Self.name(ofSlot: slot)): expected \(expected), found \(found)", offset: offset)
    }

    // MARK: - Feature names

    /// The slot of a feature name: 0...12 for `I1`...`I13`, 13...38 for `C1`...`C26`, -1 if unknown.
    @inline(__always)
    static func slot(of key: JSONScanner.StringToken, in scanner: JSONScanner, scratch: inout [UInt8]) -> Int {
        if !key.hasEscapes {
            return slot(ofName: scanner.rawBytes(from: key.start, to: key.end))
        }
        // Rare: a client escaped the key ("\u0049\u0031" is "I1"); decode it into reused scratch space.
        scratch.removeAll(keepingCapacity: true)
        scanner.unescape(key, into: &scratch)
        return scratch.withUnsafeBytes { slot(ofName: $0) }
    }

    /// Maps `I<n>`/`C<n>` bytes to a slot without building a String; no leading zeros (`I01` is unknown).
    @inline(__always)
    static func slot(ofName name: UnsafeRawBufferPointer) -> Int {
        let count = name.count
        guard count == 2 || count == 3 else { return -1 }
        let d1 = name[1] &- UInt8(ascii: "0")
        guard d1 >= 1 && d1 <= 9 else { return -1 }
        var number = Int(d1)
        if count == 3 {
            let d2 = name[2] &- UInt8(ascii: "0")
            guard d2 <= 9 else { return -1 }
            number = number * 10 + Int(d2)
        }
        switch name[0] {
        case UInt8(ascii: "I"): return number <= DecodedInstances.denseFieldCount ? number - 1 : -1
        case UInt8(ascii: "C"):
            return number <= DecodedInstances.categoricalFieldCount ? DecodedInstances.denseFieldCount + number - 1 : -1
        default: return -1
        }
    }

    /// The feature name of a slot, for messages.
    static func name(ofSlot slot: Int) -> String {
        slot < DecodedInstances.denseFieldCount ? "I\(slot + 1)" : "C\(slot - DecodedInstances.denseFieldCount + 1)"
    }

    /// Parses bytes that are exactly a JSON integer (`-?(0|[1-9][0-9]*)`) fitting in Int64.
    static func integerText(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var scanner = JSONScanner(bytes)
        guard let first = bytes.first, first == UInt8(ascii: "-") || JSONScanner.isDigit(first),
            let number = try? scanner.readNumber(), scanner.isAtEnd
        else { return nil }
        return number.int64
    }

    /// `"text"` with quotes and at most 64 characters, for naming client input in messages.
    static func quoted(_ text: String) -> String {
        let shown = text.count > 64 ? String(text.prefix(64)) + "..." : text
        return "\"\(shown)\""
    }
}
