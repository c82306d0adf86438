#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the sampled values of one column look like: the evidence ``SchemaInference`` decides from.
///
/// Fed bytes straight from the reader; it keeps counts and a set of value hashes (capped at
/// ``distinctLimit``), never the values, so profiling 150 columns of 100,000 rows stays small.
struct ColumnProfile {
    /// Distinct values are counted up to this many; beyond it the count is a lower bound.
    static let distinctLimit = 10_000

    private(set) var emptyCount = 0
    private(set) var valueCount = 0
    /// Values that parse as numbers (integers included).
    private(set) var numberCount = 0
    /// Values that parse as integers without a leading zero.
    private(set) var integerCount = 0
    /// Integers written with a leading zero, such as `007`: codes whose text matters.
    private(set) var leadingZeroCount = 0
    /// Values that read as booleans (`true`/`false` in any case): a label written by pandas or a SQL export.
    private(set) var booleanCount = 0
    /// Values that contain the sequence splitter.
    private(set) var splitValueCount = 0
    /// How many values have each element count, for values that contain the splitter.
    private(set) var splitLengthCounts: [Int: Int] = [:]
    /// The smallest and largest integer seen (values classified `.integer` only).
    private(set) var integerMinimum = Double.infinity
    private(set) var integerMaximum = -Double.infinity
    private(set) var firstNonNumber: String?
    private(set) var firstLeadingZero: String?
    private var hashes = Set<Int>()

    private let splitter: [UInt8]

    init(splitter: [UInt8]) {
        self.splitter = splitter
    }

    /// The number of distinct values, exact up to ``distinctLimit``.
    var distinctCount: Int { hashes.count }
    /// Whether there were at least ``distinctLimit`` distinct values, so ``distinctCount`` is a lower bound.
    var distinctCountIsCapped: Bool { hashes.count >= Self.distinctLimit }
    /// Values seen by the time the distinct count reached its cap (nil while under it).
    private(set) var valuesWhenCapped: Int?

    /// Whether nearly every value is distinct (at least 90% among 1,000 or more; a smaller sample cannot tell), as in a time stamp or a row
    /// id: a categorical embedding of such a column can only memorize rows.
    var isNearlyUnique: Bool {
        if let valuesWhenCapped { return Double(Self.distinctLimit) >= 0.9 * Double(valuesWhenCapped) }
        return valueCount >= 1000 && Double(hashes.count) >= 0.9 * Double(valueCount)
    }

    /// Adds one field's bytes (nil: empty).
    mutating func add(_ value: UnsafeRawBufferPointer?) {
        guard let value, !value.isEmpty else {
            emptyCount += 1
            return
        }
        valueCount += 1
        if hashes.count < Self.distinctLimit {
            var hasher = Hasher()
            hasher.combine(bytes: value)
            hashes.insert(hasher.finalize())
            if hashes.count == Self.distinctLimit { valuesWhenCapped = valueCount }
        }
        switch Self.classify(value) {
        case .integer:
            numberCount += 1
            integerCount += 1
            if let number = NumberText.parse(value) {
                integerMinimum = min(integerMinimum, number)
                integerMaximum = max(integerMaximum, number)
            }
        case .leadingZeroInteger:
            numberCount += 1
            leadingZeroCount += 1
            if firstLeadingZero == nil { firstLeadingZero = String(decoding: value, as: UTF8.self) }
        case .fraction:
            numberCount += 1
        case .text:
            if BooleanText.parse(value) != nil { booleanCount += 1 }
            if firstNonNumber == nil { firstNonNumber = String(decoding: value.prefix(40), as: UTF8.self) }
        }
        let elements = countElements(value)
        if elements > 1 {
            splitValueCount += 1
            splitLengthCounts[elements, default: 0] += 1
        }
    }

    /// The `fraction` (0...1) quantile of element counts over all non-empty values (a value without the splitter has one).
    func sequenceLengthQuantile(_ fraction: Double) -> Int {
        guard valueCount > 0 else { return 0 }
        let rank = max(1, Int((fraction * Double(valueCount)).rounded(.up)))
        var seen = valueCount - splitValueCount  // the one-element values come first
        if seen >= rank { return 1 }
        for length in splitLengthCounts.keys.sorted() {
            seen += splitLengthCounts[length]!
            if seen >= rank { return length }
        }
        return splitLengthCounts.keys.max() ?? 1
    }

    /// How many integers the seen ones span (`max - min + 1`), 0 before any.
    var integerRange: Double { integerMaximum >= integerMinimum ? integerMaximum - integerMinimum + 1 : 0 }

    /// The longest element count seen.
    var longestSequence: Int { splitLengthCounts.keys.max() ?? (valueCount > 0 ? 1 : 0) }

    enum ValueClass { case integer, leadingZeroInteger, fraction, text }

    /// Classifies a value: `[+-]digits`, a decimal with a fraction or exponent, or text (including
    /// `nan`, `inf`, hex and anything with spaces, which a plain number parser would not take).
    static func classify(_ value: UnsafeRawBufferPointer) -> ValueClass {
        let n = value.count
        var i = 0
        if i < n && (value[i] == UInt8(ascii: "+") || value[i] == UInt8(ascii: "-")) { i += 1 }
        let intStart = i
        while i < n && value[i] &- UInt8(ascii: "0") <= 9 { i += 1 }
        let intDigits = i - intStart
        if i == n {
            guard intDigits > 0 else { return .text }
            return intDigits > 1 && value[intStart] == UInt8(ascii: "0") ? .leadingZeroInteger : .integer
        }
        var fractionDigits = 0
        if value[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < n && value[i] &- UInt8(ascii: "0") <= 9 { i += 1 }
            fractionDigits = i - fractionStart
        }
        guard intDigits + fractionDigits > 0 else { return .text }
        if i < n && (value[i] == UInt8(ascii: "e") || value[i] == UInt8(ascii: "E")) {
            i += 1
            if i < n && (value[i] == UInt8(ascii: "+") || value[i] == UInt8(ascii: "-")) { i += 1 }
            let exponentStart = i
            while i < n && value[i] &- UInt8(ascii: "0") <= 9 { i += 1 }
            guard i > exponentStart else { return .text }
        }
        return i == n ? .fraction : .text
    }

    /// Elements the splitter cuts the value into (1 when it does not occur).
    private func countElements(_ value: UnsafeRawBufferPointer) -> Int {
        guard let first = splitter.first, let base = value.baseAddress else { return 1 }
        var count = 1
        var i = 0
        let n = value.count
        while i < n, let hit = memchr(base + i, Int32(first), n - i) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if at + splitter.count <= n && splitter.indices.allSatisfy({ value[at + $0] == splitter[$0] }) {
                count += 1
                i = at + splitter.count
            } else {
                i = at + 1
            }
        }
        return count
    }
}
