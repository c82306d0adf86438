import Foundation

/// Random raw rows for any bundle's schema, drawn as bench/gen_rows.py draws them, as request JSON or as encoded model inputs.
///
/// Per kind: categorical values come from the field's vocabulary, skewed toward its first (most frequent)
/// entries, with ~4% unseen values (OOV) and ~4% absent (missing). Numbers of `convert_to_bucket` fields are
/// Criteo-like heavy-tailed counts (the odd -1); other numbers follow the fitted shift and scale (a
/// StandardScaler's mean and std, a MinMaxScaler's range); ~15% are absent. Sequences are lists of 1 to
/// length + 2 tokens from their vocabulary block (so some are truncated), ~5% absent. For the Criteo preset
/// this is the row tune and the bench scripts always sent.
public struct SampleRowGenerator {
    /// One drawn row, by kind in schema order; nil is an absent field.
    public struct Row {
        public var numeric: [Double?]
        public var categorical: [String?]
        public var sequences: [[String]?]
    }

    private enum NumericDraw {
        /// Criteo's integer features: mostly small counts, a long tail.
        case counts
        /// `shift + scale * N(0, 1)` (StandardScaler's mean and std).
        case normal(shift: Double, scale: Double)
        /// `shift + scale * U(0, 1)` (MinMaxScaler's min and range, or [0, 1) without a normalizer).
        case uniform(shift: Double, scale: Double)
    }

    public let map: FeatureMap
    private let numericDraws: [NumericDraw]
    private let integral: [Bool]
    /// Per sequence field, the vocabulary its tokens come from.
    private let sequenceVocabularies: [[String]]

    /// Prepares draws for `map`'s schema (linear in its field count).
    public init(map: FeatureMap) {
        self.map = map
        let numeric = map.schema.numericFields
        numericDraws = numeric.enumerated().map { field, spec -> NumericDraw in
            let shift = map.numericShifts[field], scale = map.denseScales[field]
            switch (spec.preprocess, spec.normalizer) {
            case (.convertToBucket, _): return .counts
            case (_, .standardScaler): return .normal(shift: shift, scale: scale)
            case (_, .minMaxScaler): return .uniform(shift: shift, scale: scale)
            // Without a fitted range, integer fields look like counts and floats like fractions.
            case (_, .none): return spec.valueType == .int ? .counts : .uniform(shift: 0, scale: 1)
            }
        }
        integral = numeric.map { $0.valueType == .int }
        sequenceVocabularies = map.sequenceBlocks.map { map.vocabularies[$0] }
    }

    /// Draws one row.
    public func row<G: RandomNumberGenerator>(using random: inout G) -> Row {
        var row = Row(numeric: [], categorical: [], sequences: [])
        // Fields in declaration order, so the draws match bench/gen_rows.py's for the same schema.
        var numericIndex = 0, categoricalIndex = 0, sequenceIndex = 0
        for field in map.schema.fields {
            switch field.kind {
            case .numeric:
                row.numeric.append(number(field: numericIndex, using: &random))
                numericIndex += 1
            case .categorical:
                row.categorical.append(token(from: map.vocabularies[categoricalIndex], missingRate: 0.04, using: &random))
                categoricalIndex += 1
            case .sequence:
                if Double.random(in: 0..<1, using: &random) < 0.05 {
                    row.sequences.append(nil)
                } else {
                    let vocabulary = sequenceVocabularies[sequenceIndex]
                    let count = Int.random(in: 1...(map.sequenceLengths[sequenceIndex] + 2), using: &random)
                    row.sequences.append((0..<count).map { _ in token(from: vocabulary, missingRate: 0, using: &random) ?? "" })
                }
                sequenceIndex += 1
            }
        }
        return row
    }

    private func number<G: RandomNumberGenerator>(field: Int, using random: inout G) -> Double? {
        guard Double.random(in: 0..<1, using: &random) >= 0.15 else { return nil }
        let value: Double
        switch numericDraws[field] {
        case .counts:
            // A Pareto(0.8) draw minus one, capped so it stays an exact integer.
            let count = min(pow(1 - Double.random(in: 0..<1, using: &random), -1 / 0.8), 1e12).rounded(.down) - 1
            value = Double.random(in: 0..<1, using: &random) < 0.02 ? -1 : count
        case .normal(let shift, let scale):
            // Box-Muller; 1 - u keeps the logarithm finite.
            let u = 1 - Double.random(in: 0..<1, using: &random), v = Double.random(in: 0..<1, using: &random)
            value = shift + scale * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        case .uniform(let shift, let scale):
            value = shift + scale * Double.random(in: 0..<1, using: &random)
        }
        return integral[field] ? value.rounded() : value
    }

    private func token<G: RandomNumberGenerator>(from vocabulary: [String], missingRate: Double, using random: inout G) -> String? {
        let u = Double.random(in: 0..<1, using: &random)
        if u < missingRate || vocabulary.isEmpty { return nil }
        if u < missingRate + 0.04 { return String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random)) }
        // Skewed toward frequent values (vocabularies are stored most frequent first).
        let index = Int(Double(vocabulary.count) * pow(Double.random(in: 0..<1, using: &random), 3))
        return vocabulary[min(index, vocabulary.count - 1)]
    }

    /// The row as one instance of the CTR predict API: `{"field": value, ...}`, sequences as arrays, absent fields left out.
    public func json(_ row: Row) -> String {
        var members: [String] = []
        var numericIndex = 0, categoricalIndex = 0, sequenceIndex = 0
        for field in map.schema.fields {
            let name = Self.quoted(field.name)
            switch field.kind {
            case .numeric:
                if let value = row.numeric[numericIndex] {
                    members.append(name + ":" + (integral[numericIndex] ? String(Int64(value)) : "\(value)"))
                }
                numericIndex += 1
            case .categorical:
                if let value = row.categorical[categoricalIndex] { members.append(name + ":" + Self.quoted(value)) }
                categoricalIndex += 1
            case .sequence:
                if let tokens = row.sequences[sequenceIndex] {
                    members.append(name + ":[" + tokens.map(Self.quoted).joined(separator: ",") + "]")
                }
                sequenceIndex += 1
            }
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The row as the encoder takes it (sequences joined by their splitter).
    public func rawRow(_ row: Row) -> RawRow {
        let splitters = map.schema.sequenceFields.map { $0.sequence?.splitter ?? "^" }
        return RawRow(dense: row.numeric, categorical: row.categorical,
                      sequences: zip(row.sequences, splitters).map { tokens, splitter in tokens?.joined(separator: splitter) })
    }

    /// `count` drawn rows encoded with `encoder`: the categorical, numeric and sequence inputs, row-major.
    public func encodedBatch<G: RandomNumberGenerator>(count: Int, encoder: FeatureEncoder, using random: inout G)
        -> (ids: [Int64], dense: [Float], sequences: [Int64]) {
        let c = encoder.categoricalCount, n = encoder.numericCount, s = encoder.sequenceWidth
        var ids: [Int64] = [], dense: [Float] = [], sequences: [Int64] = []
        ids.reserveCapacity(count * c)
        dense.reserveCapacity(count * n)
        sequences.reserveCapacity(count * s)
        // One row at a time into scratch of at least one element: an input without fields has no storage.
        var rowIDs = [Int64](repeating: 0, count: max(c, 1)), rowDense = [Float](repeating: 0, count: max(n, 1))
        var rowSequences = [Int64](repeating: 0, count: max(s, 1))
        for _ in 0..<count {
            encoder.encode(rawRow(row(using: &random)), ids: &rowIDs, dense: &rowDense, sequences: &rowSequences)
            ids += rowIDs.prefix(c)
            dense += rowDense.prefix(n)
            sequences += rowSequences.prefix(s)
        }
        return (ids, dense, sequences)
    }

    /// `rows` newline-terminated JSON instances (the rows file of the wrk scripts).
    public func jsonLines<G: RandomNumberGenerator>(count: Int, using random: inout G) -> String {
        var lines = ""
        for _ in 0..<count { lines += json(row(using: &random)) + "\n" }
        return lines
    }

    /// A JSON string literal, escaping what JSON requires.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
