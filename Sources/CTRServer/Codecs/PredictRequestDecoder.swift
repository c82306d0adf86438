import CTRFeatures

/// Decodes the CTR predict body `{"instances":[{"user_id":"u1","price":3.5,...}, ...]}` in one pass, by the model's schema.
///
/// The accepted shape, decided here and documented for clients:
/// - The body is an object whose only key is `"instances"` (an array, possibly empty). Any other
///   top-level key is an error, so a misspelt key never silently predicts on nothing.
/// - Each instance is an object keyed by the schema's field names. Absent keys are missing values;
///   columns declared `active: false` and the label column are accepted and ignored; an unknown key is an
///   error naming it (or ignored with `ignoreUnknownFields`, for raw log rows); a repeated key is an error.
/// - Numeric fields: a JSON number, a string holding one (for clients that forward CSV text), or `null`
///   / `""` for missing. Fields declared `dtype: int` take integral values only (`5`, `5.0`, `1e3`, `"5"`).
///   Non-finite values, booleans, objects and arrays are errors. Values are stored as Double.
/// - Categorical fields: a string (any UTF-8, escapes decoded), `null` or `""` for missing, or a JSON
///   integer, taken as its literal text (`123` is the same as `"123"`). Fractions, exponents, booleans,
///   objects and arrays are errors, since their text is ambiguous.
/// - Sequence fields: a string joined by the field's splitter (`"a^b^c"`), or an array of tokens
///   (strings or integers; `null` or `""` is a padding token); `null`, `""` or `[]` is an empty sequence.
/// - At most `maxInstances` rows; more is a `.limitExceeded` error that states both counts.
public struct PredictRequestDecoder: Sendable {
    /// The most rows accepted in one request.
    public var maxInstances: Int
    /// The deepest JSON nesting accepted (the valid shape needs 4).
    public var maxDepth: Int
    /// Whether keys that name no column of the schema are skipped instead of refused.
    public var ignoreUnknownFields: Bool
    private let names: FieldNameTable
    private let integerFields: [Bool]
    private let numericWidth: Int
    private let categoricalWidth: Int
    private let sequenceWidth: Int

    /// Creates a decoder for `schema` accepting at most `maxInstances` rows.
    public init(schema: FeatureSchema, maxInstances: Int, ignoreUnknownFields: Bool = false, maxDepth: Int = 16) {
        self.maxInstances = maxInstances
        self.maxDepth = maxDepth
        self.ignoreUnknownFields = ignoreUnknownFields
        names = FieldNameTable(schema: schema, includeLabel: true)
        integerFields = schema.numericFields.map { $0.valueType == .int }
        numericWidth = schema.numericFields.count
        categoricalWidth = schema.categoricalFields.count
        sequenceWidth = schema.sequenceFields.count
    }

    /// A decoder for the Criteo preset (`I1`...`I13` integers, `C1`...`C26` strings).
    public init(maxInstances: Int, maxDepth: Int = 16) {
        self.init(schema: .criteo, maxInstances: maxInstances, maxDepth: maxDepth)
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
        instances.reset(numeric: numericWidth, categorical: categoricalWidth, sequences: sequenceWidth, names: names.count)
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

    /// What a ranking body asks for besides its rows: how many of the best candidates to list.
    public struct RankOptions: Sendable, Equatable {
        /// `top_k`, when given: the answer also lists the `topK` best candidates, best first.
        public var topK: Int?
    }

    /// Decodes the ranking body `{"context": {...}, "candidates": [{...}, ...], "top_k": K}` (context and top_k
    /// optional, keys in any order): the context into `context` as its one row, the candidates into `candidates`.
    /// Each object follows the rules of an instance; errors name `context` or `candidates[i]` and the field.
    public func decodeRank(_ body: UnsafeRawBufferPointer, candidates: inout DecodedInstances,
                           context: inout DecodedInstances) throws(RequestDecodeError) -> RankOptions {
        candidates.reset(numeric: numericWidth, categorical: categoricalWidth, sequences: sequenceWidth, names: names.count)
        context.reset(numeric: numericWidth, categorical: categoricalWidth, sequences: sequenceWidth, names: names.count)
        var scanner = JSONScanner(body, maxDepth: maxDepth)
        let shape = "{\"context\": {...}, \"candidates\": [...], \"top_k\": K}"
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(.invalidRequest, "request body must be a JSON object \(shape), found \(scanner.describeValue())",
                                     offset: scanner.position)
        }
        var options = RankOptions()
        var seen = (context: false, candidates: false, topK: false)
        if try scanner.beginObject() {
            repeat {
                let key = try scanner.readKey()
                if scanner.string(key, equals: "candidates") {
                    guard !seen.candidates else { throw RequestDecodeError(.invalidRequest, "duplicate key \"candidates\"", offset: key.start - 1) }
                    seen.candidates = true
                    guard scanner.peek() == UInt8(ascii: "[") else {
                        throw RequestDecodeError(.invalidRequest, "\"candidates\" must be an array of objects, found \(scanner.describeValue())",
                                                 offset: scanner.position)
                    }
                    guard try scanner.beginArray() else { continue }
                    repeat {
                        if candidates.count == maxInstances {
                            try throwTooMany(&scanner, what: "candidates")
                        }
                        try decodeInstance(&scanner, index: RowPlace(list: "candidates", index: candidates.count), into: &candidates)
                    } while try scanner.nextElement()
                } else if scanner.string(key, equals: "context") {
                    guard !seen.context else { throw RequestDecodeError(.invalidRequest, "duplicate key \"context\"", offset: key.start - 1) }
                    seen.context = true
                    try decodeInstance(&scanner, index: RowPlace(list: "context", index: -1), into: &context)
                } else if scanner.string(key, equals: "top_k") {
                    guard !seen.topK else { throw RequestDecodeError(.invalidRequest, "duplicate key \"top_k\"", offset: key.start - 1) }
                    seen.topK = true
                    let start = scanner.position
                    let first = scanner.peek() ?? 0
                    guard first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
                          let value = try scanner.readNumber().int64, value >= 1 else {
                        throw RequestDecodeError(.invalidRequest, "\"top_k\" must be a positive integer", offset: start)
                    }
                    options.topK = Int(clamping: value)
                } else {
                    throw RequestDecodeError(.invalidRequest, "unknown key \(Self.quoted(scanner.string(key))) (the body must be \(shape))",
                                             offset: key.start - 1)
                }
            } while try scanner.nextMember()
        }
        try scanner.finish()
        guard seen.candidates else { throw RequestDecodeError(.invalidRequest, "missing key \"candidates\"", offset: 0) }
        return options
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
                try throwTooMany(&scanner, what: "instances")
            }
            try decodeInstance(&scanner, index: RowPlace(list: "instances", index: instances.count), into: &instances)
        } while try scanner.nextElement()
    }

    /// Counts the remaining rows (validating them as JSON) so the error can say how many were sent.
    private func throwTooMany(_ scanner: inout JSONScanner, what: String) throws(RequestDecodeError) -> Never {
        var total = maxInstances
        repeat {
            try scanner.skipValue()
            total += 1
        } while try scanner.nextElement()
        throw RequestDecodeError(.limitExceeded, "too many \(what): \(total) > \(maxInstances)")
    }

    @inline(__always)
    private func decodeInstance(_ scanner: inout JSONScanner, index: RowPlace, into instances: inout DecodedInstances) throws(RequestDecodeError) {
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw RequestDecodeError(
                .invalidRequest, "\(index): expected an object of features, found \(scanner.describeValue())",
                offset: scanner.position)
        }
        let row = instances.appendMissingRow()
        guard try scanner.beginObject() else { return }
        repeat {
            let key = try scanner.readKey()
            let ordinal = Self.ordinal(of: key, in: scanner, names: names, scratch: &instances.scratch)
            guard ordinal >= 0 else {
                if ignoreUnknownFields {
                    try scanner.skipValue()
                    continue
                }
                throw RequestDecodeError(
                    .invalidRequest, "\(index): unknown feature \(Self.quoted(scanner.string(key)))",
                    offset: key.start - 1)
            }
            guard instances.markSeen(ordinal) else {
                throw RequestDecodeError(
                    .invalidRequest, "\(index): duplicate feature \(Self.quoted(names.name(ofOrdinal: ordinal)))",
                    offset: key.start - 1)
            }
            switch names.field(ofOrdinal: ordinal) {
            case .dense(let field):
                try decodeNumeric(&scanner, row: row, field: field, ordinal: ordinal, index: index, into: &instances)
            case .categorical(let field):
                try decodeCategorical(&scanner, row: row, field: field, ordinal: ordinal, index: index, into: &instances)
            case .sequence(let field):
                try decodeSequence(&scanner, row: row, field: field, ordinal: ordinal, index: index, into: &instances)
            case .ignored:
                try scanner.skipValue()
            }
        } while try scanner.nextMember()
    }

    @inline(__always)
    private func decodeNumeric(
        _ scanner: inout JSONScanner, row: Int, field: Int, ordinal: Int, index: RowPlace, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) {
        let integral = integerFields[field]
        let expected = integral ? "an integer or null" : "a number or null"
        switch scanner.peek() ?? 0 {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try scanner.readNumber()
            if let value = number.int64 {
                instances.setDense(row: row, field: field, Double(value))
                return
            }
            let parsed: Double?
            do { parsed = try scanner.double(number) } catch { parsed = nil }  // out of range: named below
            guard let value = parsed, value.isFinite, !integral || value.rounded(.towardZero) == value else {
                throw typeError(index: index, ordinal: ordinal, expected: expected, found: "\(scanner.text(of: number))", at: number.start)
            }
            instances.setDense(row: row, field: field, value)
        case UInt8(ascii: "n"):
            _ = try scanner.consumeNull()
        case UInt8(ascii: "\""):
            let token = try scanner.readString()
            if token.rawCount == 0 { return }  // "" is missing, as an empty CSV field
            if !token.hasEscapes {
                let text = scanner.rawBytes(from: token.start, to: token.end)
                if let value = Self.integerText(text) {
                    instances.setDense(row: row, field: field, Double(value))
                    return
                }
                if !integral, let value = Self.numberText(text) {
                    instances.setDense(row: row, field: field, value)
                    return
                }
            }
            throw typeError(index: index, ordinal: ordinal, expected: expected, found: "the string \(Self.quoted(scanner.string(token)))", at: token.start - 1)
        default:
            let start = scanner.position
            throw typeError(index: index, ordinal: ordinal, expected: expected, found: scanner.describeValue(), at: start)
        }
    }

    /// A string or integer token as bytes in the side buffer, nil for null or "", or an error naming the field.
    @inline(__always)
    private func decodeToken(
        _ scanner: inout JSONScanner, ordinal: Int, index: RowPlace, expected: String, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) -> DecodedInstances.Slot? {
        switch scanner.peek() ?? 0 {
        case UInt8(ascii: "\""):
            let token = try scanner.readString()
            if token.rawCount == 0 { return nil }  // "" is missing, as an empty CSV field
            if token.hasEscapes { return instances.store(escaped: token, scanner: scanner) }
            return instances.store(scanner.rawBytes(from: token.start, to: token.end))
        case UInt8(ascii: "n"):
            _ = try scanner.consumeNull()
            return nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try scanner.readNumber()
            guard number.isIntegerSyntax else {
                throw typeError(index: index, ordinal: ordinal, expected: expected, found: "\(scanner.text(of: number))", at: number.start)
            }
            return instances.store(scanner.rawBytes(from: number.start, to: number.end))
        default:
            let start = scanner.position
            throw typeError(index: index, ordinal: ordinal, expected: expected, found: scanner.describeValue(), at: start)
        }
    }

    @inline(__always)
    private func decodeCategorical(
        _ scanner: inout JSONScanner, row: Int, field: Int, ordinal: Int, index: RowPlace, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) {
        if let slot = try decodeToken(&scanner, ordinal: ordinal, index: index, expected: "a string, an integer or null", into: &instances) {
            instances.setCategorical(row: row, field: field, slot)
        }
    }

    private func decodeSequence(
        _ scanner: inout JSONScanner, row: Int, field: Int, ordinal: Int, index: RowPlace, into instances: inout DecodedInstances
    ) throws(RequestDecodeError) {
        let expected = "an array of tokens, a joined string or null"
        guard scanner.peek() == UInt8(ascii: "[") else {
            if let slot = try decodeToken(&scanner, ordinal: ordinal, index: index, expected: expected, into: &instances) {
                instances.setSequence(row: row, field: field, joined: slot)
            }
            return
        }
        instances.beginTokens(row: row, field: field)
        guard try scanner.beginArray() else { return }
        repeat {
            guard scanner.peek() != UInt8(ascii: "[") && scanner.peek() != UInt8(ascii: "{") else {
                let start = scanner.position
                throw typeError(index: index, ordinal: ordinal, expected: "tokens that are strings, integers or null", found: scanner.describeValue(), at: start)
            }
            let slot = try decodeToken(&scanner, ordinal: ordinal, index: index, expected: "tokens that are strings, integers or null", into: &instances)
            instances.appendToken(row: row, field: field, slot ?? DecodedInstances.Slot(offset: 0, length: 0))
        } while try scanner.nextElement()
    }

    private func typeError(index: RowPlace, ordinal: Int, expected: String, found: String, at offset: Int) -> RequestDecodeError {
        RequestDecodeError(.invalidRequest, "\(index).\(names.name(ofOrdinal: ordinal)): expected \(expected), found \(found)", offset: offset)
    }

    // MARK: - Feature names

    /// The ordinal of a key in the schema's name table, or -1 if unknown.
    @inline(__always)
    static func ordinal(of key: JSONScanner.StringToken, in scanner: JSONScanner, names: FieldNameTable, scratch: inout [UInt8]) -> Int {
        if !key.hasEscapes {
            return names.ordinal(named: scanner.rawBytes(from: key.start, to: key.end))
        }
        // Rare: a client escaped the key ("\u0049\u0031" is "I1"); decode it into reused scratch space.
        scratch.removeAll(keepingCapacity: true)
        scanner.unescape(key, into: &scratch)
        return scratch.withUnsafeBytes { names.ordinal(named: $0) }
    }

    /// Parses bytes that are exactly a finite JSON number (for numeric fields sent as strings).
    static func numberText(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var scanner = JSONScanner(bytes)
        guard let first = bytes.first, first == UInt8(ascii: "-") || JSONScanner.isDigit(first),
            let number = try? scanner.readNumber(), scanner.isAtEnd, let value = try? scanner.double(number), value.isFinite
        else { return nil }
        return value
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

/// Where a decoded object sits in the body, for error messages: `instances[3]`, `candidates[0]`, `context`.
struct RowPlace: CustomStringConvertible {
    let list: StaticString
    /// The position in the list; -1 for a lone object (`context`).
    let index: Int

    var description: String { index < 0 ? "\(list)" : "\(list)[\(index)]" }
}
