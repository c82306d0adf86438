/// Guesses each column's kind and dtype from a sample of a CSV file, for a dataset config a person reviews.
///
/// The rules, applied in this order to the non-empty values of the first ``sampleRows`` records:
/// 1. The column named ``label`` is the label (dtype float); a missing label column is an error.
/// 2. No values at all: categorical str, inactive (nothing to learn from).
/// 3. At least ``sequenceShare`` (1%) of the values contain ``sequenceSeparator``: a sequence (dtype
///    str, padding pre). `max_len` is the 99th percentile of element counts, so one very long history
///    does not widen every row's tensor (pre padding keeps the most recent elements of the rest);
///    exact up to 10, else rounded up to a multiple of 10. The longest seen is in the reason.
/// 4. Every value is a number and at least one has a fraction or exponent: numeric float.
/// 5. Every value is an integer (no leading zeros): an id unless it looks like a quantity. In order:
///    a. the name looks like an identifier (``looksLikeIdentifier(_:)``): categorical int;
///    b. the name says quantity (``looksLikeQuantity(_:)``: amount, price, count, age, ...) and there are more
///       than ``quantityNameMinimumDistinct`` (10) distinct values (a two-valued `cost` is a flag): numeric float;
///    c. the values look like a quantity: more than ``numericDistinctThreshold`` (100) distinct, at least
///       ``quantityDistinctShare`` (5%) of the values distinct, and spread thin over a wide range (the range
///       spans at least ``quantityRangeFactor`` (4) times the distinct count; ids are numbered densely):
///       numeric float, such as a price in cents;
/// 6.    otherwise categorical int (an id, a level, a code: a city numbered 1..221 in 50,000 rows).
/// 7. Anything else, including integers with leading zeros (`007` is a code): categorical str.
/// A categorical column (rules 6 and 7) whose values are nearly all distinct (a time stamp, a row or
/// request id) is written `active: false`: its embedding could only memorize training rows.
/// Numeric columns get `StandardScaler`: a float on its raw scale trains badly without a normalizer.
public struct SchemaInference: Sendable {
    /// The name of the label column.
    public var label: String
    /// The byte between fields.
    public var separator: UInt8
    /// The text between a sequence's elements, FuxiCTR's `splitter`.
    public var sequenceSeparator: String
    /// Records read to decide; the rest of the file is not read.
    public var sampleRows: Int

    /// The share of a column's values that must contain the splitter for it to be a sequence.
    public static let sequenceShare = 0.01
    /// An integer column needs more distinct values than this to be numeric by its values.
    public static let numericDistinctThreshold = 100
    /// ... and at least this share of its values distinct (a city id repeats; a price in cents rarely does).
    public static let quantityDistinctShare = 0.05
    /// ... and a range at least this many times its distinct count (ids are numbered densely, quantities are not).
    public static let quantityRangeFactor = 4.0
    /// A quantity-named integer column needs more distinct values than this to be numeric by its name.
    public static let quantityNameMinimumDistinct = 10
    /// Name words (see ``looksLikeQuantity(_:)``) that mark an integer column as a quantity, not an identifier.
    public static let quantityWords: Set<String> = [
        "amount", "amt", "price", "cost", "fee", "revenue", "income", "salary", "balance", "spend", "pay",
        "count", "cnt", "num", "qty", "quantity", "total", "sum", "age", "duration", "seconds", "secs", "minutes",
        "mins", "hours", "days", "size", "length", "len", "weight", "height", "width", "distance", "dist",
        "views", "clicks", "impressions", "imps", "pv", "uv", "times", "freq", "frequency", "score",
    ]
    /// The normalizer given to numeric columns.
    public static let numericNormalizer = "StandardScaler"
    /// Name words (see ``looksLikeIdentifier(_:)``) that mark an integer column as an identifier, not a quantity.
    public static let identifierWords: Set<String> = [
        "id", "ids", "key", "code", "level", "lvl", "type", "group", "class", "cat", "cate", "category",
        "seg", "segment", "brand", "hash", "user", "item", "customer", "campaign", "adgroup", "shop", "seller",
        "product", "zip", "postcode",
    ]

    /// Creates an inference with FuxiCTR's defaults (`,` between fields, `^` between sequence elements).
    public init(label: String, separator: UInt8 = UInt8(ascii: ","), sequenceSeparator: String = "^",
                sampleRows: Int = 100_000) {
        self.label = label
        self.separator = separator
        self.sequenceSeparator = sequenceSeparator
        self.sampleRows = sampleRows
    }

    /// Reads the header and up to ``sampleRows`` records of `path` and decides every column.
    ///
    /// Throws if the file cannot be read, its header is bad, the label is not in the header, or the
    /// settings are unusable (no rows to sample, an empty sequence separator).
    public func infer(path: String) throws(CTRDataError) -> InferredSchema {
        guard sampleRows > 0 else {
            throw CTRDataError(.invalidArgument, path: path, detail: "the sample must have at least one row, got \(sampleRows)")
        }
        guard !sequenceSeparator.isEmpty else {
            throw CTRDataError(.invalidArgument, path: path, detail: "the sequence separator is empty")
        }
        let reader = try CSVReader(path: path, separator: separator)
        guard let labelIndex = reader.column(named: label) else {
            let shown = reader.header.prefix(20).joined(separator: ", ")
            let more = reader.header.count > 20 ? ", ... (\(reader.header.count) columns)" : ""
            throw CTRDataError(.columnNotFound, path: path,
                               detail: "the label \"\(label)\" is not in the header (\(shown)\(more))")
        }
        let splitter = Array(sequenceSeparator.utf8)
        var profiles = [ColumnProfile](repeating: ColumnProfile(splitter: splitter), count: reader.header.count)
        let stats = try profiles.withUnsafeMutableBufferPointer { profiles throws(CTRDataError) in
            try reader.forEachRow(limit: sampleRows) { row in
                for column in 0..<row.columnCount { profiles[column].add(row.field(column)) }
            }
        }
        // Unnamed columns (a pandas index, a trailing separator) cannot be declared; names are written trimmed.
        let columns = reader.header.enumerated().compactMap { index, raw -> InferredColumn? in
            let trimmed = CSVReader.trimmedName(raw)
            guard !trimmed.isEmpty else { return nil }
            let name = reader.column(named: trimmed) == index ? trimmed : raw
            return decide(name: name, profile: profiles[index], isLabel: index == labelIndex)
        }
        return InferredSchema(dataPath: path, separator: separator, sampledRows: stats.rowsRead,
                              readStats: stats, columns: columns)
    }

    /// Applies the rules to one column's profile.
    func decide(name: String, profile p: ColumnProfile, isLabel: Bool) -> InferredColumn {
        func column(_ kind: InferredColumn.Kind, _ dtype: String, active: Bool = true, normalizer: String? = nil,
                    splitter: String? = nil, maxLength: Int? = nil, _ reason: String) -> InferredColumn {
            InferredColumn(name: name, kind: kind, dtype: dtype, active: active, distinctCount: p.distinctCount,
                           distinctCountIsCapped: p.distinctCountIsCapped, emptyCount: p.emptyCount,
                           normalizer: normalizer, splitter: splitter, maxLength: maxLength, reason: reason)
        }
        let n = p.valueCount
        let distinct = p.distinctCountIsCapped ? "\(p.distinctCount)+" : "\(p.distinctCount)"
        if isLabel {
            var reason = "the label (--label)"
            let unreadable = n - p.numberCount - p.booleanCount
            if p.booleanCount > 0 { reason += "; \(p.booleanCount) values true/false, read as 1/0" }
            if unreadable > 0 { reason += "; warning: \(unreadable) of \(n) values are neither numbers nor true/false" }
            if p.emptyCount > 0 { reason += "; warning: \(p.emptyCount) empty" }
            return column(.label, "float", reason)
        }
        if n == 0 {
            return column(.categorical, "str", active: false, "all \(p.emptyCount) values empty in the sample: inactive")
        }
        if p.splitValueCount > 0 && Double(p.splitValueCount) >= Self.sequenceShare * Double(n) {
            let p99 = p.sequenceLengthQuantile(0.99)
            let maxLength = p99 <= 10 ? p99 : (p99 + 9) / 10 * 10
            return column(.sequence, "str", splitter: sequenceSeparator, maxLength: maxLength,
                          "\(p.splitValueCount) of \(n) values joined by \"\(sequenceSeparator)\"; max_len \(maxLength) from the 99th percentile length \(p99) (longest \(p.longestSequence))")
        }
        let normalized = "\(Self.numericNormalizer) (a raw-scale float trains badly)"
        if p.numberCount == n && p.integerCount + p.leadingZeroCount < n {
            return column(.numeric, "float", normalizer: Self.numericNormalizer,
                          "all \(n) values numbers, \(n - p.integerCount - p.leadingZeroCount) with a fraction or exponent: numeric, \(normalized)")
        }
        if p.integerCount == n {
            let integers = "all \(n) values integers, \(distinct) distinct"
            if Self.looksLikeIdentifier(name) {
                if p.isNearlyUnique {
                    return column(.categorical, "int", active: false,
                                  "\(integers): nearly every row has its own value (a row or request id), which a model can only memorize: inactive")
                }
                return column(.categorical, "int", "\(integers); rule 5a: name looks like an id/level/code")
            }
            if Self.looksLikeQuantity(name), p.distinctCount > Self.quantityNameMinimumDistinct {
                return column(.numeric, "float", normalizer: Self.numericNormalizer,
                              "\(integers); rule 5b: name says a quantity (> \(Self.quantityNameMinimumDistinct) distinct): numeric, \(normalized)")
            }
            let range = p.integerRange
            let spread = "range \(Self.shortNumber(p.integerMinimum))..\(Self.shortNumber(p.integerMaximum))"
            let share = Double(p.distinctCount) / Double(n)
            if p.distinctCount > Self.numericDistinctThreshold, share >= Self.quantityDistinctShare,
               range >= Self.quantityRangeFactor * Double(p.distinctCount) {
                return column(.numeric, "float", normalizer: Self.numericNormalizer,
                              "\(integers) (> \(Self.numericDistinctThreshold), \(Self.percent(share)) of values), \(spread) wide: rule 5c: a quantity: numeric, \(normalized)")
            }
            let why: String
            if p.distinctCount <= Self.numericDistinctThreshold {
                why = "<= \(Self.numericDistinctThreshold) distinct"
            } else if share < Self.quantityDistinctShare {
                why = "values repeat (\(Self.percent(share)) distinct)"
            } else {
                why = "numbered densely (\(spread))"
            }
            return column(.categorical, "int", "\(integers), \(why): rule 6: an id/level")
        }
        if p.numberCount == n, let example = p.firstLeadingZero {
            return column(.categorical, "str", "integers with leading zeros (\"\(example)\"): a code, kept as text, \(distinct) distinct")
        }
        let example = p.firstNonNumber.map { " (\"\($0)\")" } ?? ""
        if p.isNearlyUnique {
            return column(.categorical, "str", active: false,
                          "\(distinct) distinct of \(n) values\(example): nearly every row has its own value (a time stamp or row id), which a model can only memorize: inactive")
        }
        return column(.categorical, "str", "\(n - p.numberCount) of \(n) values not numbers\(example), \(distinct) distinct")
    }

    /// Whether a column name reads as an identifier: one of its words is in ``identifierWords`` or ends in `id`.
    ///
    /// Words are split at anything not a letter or digit, at lower-to-upper case changes and between
    /// letters and digits, then lowercased: `cms_segid` is `cms`, `segid`; `userID` is `user`, `id`;
    /// `I1` is `i`, `1` (a Criteo count, not an identifier).
    public static func looksLikeIdentifier(_ name: String) -> Bool {
        words(of: name).contains { word in
            identifierWords.contains(word) || (word.count > 2 && word.hasSuffix("id"))
        }
    }

    /// Whether a column name reads as a quantity: one of its words is in ``quantityWords`` (`price_cents`,
    /// `clickCount`, `age`, `num_visits`), split as in ``looksLikeIdentifier(_:)``.
    public static func looksLikeQuantity(_ name: String) -> Bool {
        words(of: name).contains { quantityWords.contains($0) }
    }

    static func shortNumber(_ value: Double) -> String {
        // Integers past 2^53 parse to doubles beyond Int64's range (found by FuzzCSVReader): print those as doubles.
        guard value.isFinite else { return "?" }
        return value.magnitude < 1e15 ? String(Int64(value)) : "\(value)"
    }

    static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return share >= 0.1 ? "\((tenths + 5) / 10)%" : "\(tenths / 10).\(tenths % 10)%"
    }

    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previous: Character?
        for character in name {
            guard character.isLetter || character.isNumber else {
                if !current.isEmpty { words.append(current.lowercased()) }
                current = ""
                previous = nil
                continue
            }
            if let previous, !current.isEmpty,
               (previous.isLowercase && character.isUppercase) || (previous.isLetter != character.isLetter) {
                words.append(current.lowercased())
                current = ""
            }
            current.append(character)
            previous = character
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        return words
    }
}
