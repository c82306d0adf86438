/// Accumulates token counts, numeric statistics and sequence lengths over training rows, then builds a ``FeatureMap``.
///
/// Streaming: memory grows with the number of distinct values, not rows. The byte-level `add`
/// methods let a reader feed values without making a String per field. Field indices count within a
/// kind (`addCategorical(field: 0, ...)` is the schema's first categorical field). Missing values are
/// filled with the field's `fill_na` before counting, as FuxiCTR does; without one, a missing token is
/// not counted and a missing number is left out of the statistics (0 for non-bucket fields, FuxiCTR's
/// default fill).
public struct FeatureMapBuilder: Sendable {
    /// The schema being fitted.
    public let schema: FeatureSchema
    /// Values seen fewer times than this fall into their block's OOV id (fields may override it).
    public let minCount: Int
    /// Rows added so far (counted by ``add(_:)`` and ``finishRow()``).
    public private(set) var rowCount = 0
    private var counters: [ValueCounter]
    private let categoricalFill: [[UInt8]?]
    private let numericFill: [Double?]
    private let bucketed: [Bool]
    private let normalizers: [FeatureSchema.Normalizer]
    private var maxima: [Double]
    private var minima: [Double]
    private var moments: [(count: Double, mean: Double, m2: Double)]
    private let sequenceBlocks: [Int]
    private let splitters: [[UInt8]]
    private var longestSequence: [Int]

    /// Creates an empty builder for the Criteo preset; `minCount` is clamped to at least 1.
    public init(minCount: Int = 10) {
        self.init(schema: .criteo, minCount: minCount)
    }

    /// Creates an empty builder for `schema`; `minCount` (clamped to >= 1) overrides the schema's `min_categr_count`.
    public init(schema: FeatureSchema, minCount: Int? = nil) {
        self.schema = schema
        self.minCount = max(1, minCount ?? schema.minCount)
        let categorical = schema.categoricalFields, numeric = schema.numericFields, sequences = schema.sequenceFields
        counters = schema.vocabularyBlockFields.indices.map { ValueCounter(seed: UInt64($0) &+ 0x5EED) }
        categoricalFill = categorical.map { field in field.tokenFill.map { Array($0.utf8) } }
        bucketed = numeric.map { $0.preprocess == .convertToBucket }
        normalizers = numeric.map(\.normalizer)
        numericFill = numeric.map(\.numericFill)
        // A bucket scale is at least 1, so the running maximum starts there.
        maxima = numeric.map { $0.preprocess == .convertToBucket ? 1 : -.infinity }
        minima = Array(repeating: .infinity, count: numeric.count)
        moments = Array(repeating: (0, 0, 0), count: numeric.count)
        sequenceBlocks = schema.sequenceBlocks
        splitters = sequences.map { Array(($0.sequence?.splitter ?? "^").utf8) }
        longestSequence = Array(repeating: 0, count: sequences.count)
    }

    /// Counts one categorical value given as UTF-8 bytes; nil or empty means missing.
    public mutating func addCategorical(field: Int, utf8: UnsafeRawBufferPointer?) {
        guard let utf8, utf8.count > 0 else {
            if let fill = categoricalFill[field] { fill.withUnsafeBytes { counters[field].add($0) } }
            return
        }
        counters[field].add(utf8)
    }

    /// Counts one categorical value; nil or empty means missing.
    public mutating func addCategorical(field: Int, string: String?) {
        guard var string, !string.isEmpty else { return addCategorical(field: field, utf8: nil) }
        string.withUTF8 { addCategorical(field: field, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Records one numeric value for the field's transform; nil means missing.
    public mutating func addDense(field: Int, raw: Double?) {
        guard let value = raw ?? numericFill[field] else { return }
        if bucketed[field] {
            let transformed = DenseTransform.apply(value)
            if transformed > maxima[field] { maxima[field] = transformed }
            return
        }
        guard value.isFinite else { return }
        if value > maxima[field] { maxima[field] = value }
        if value < minima[field] { minima[field] = value }
        // Welford's update: a stable mean and variance in one pass.
        var m = moments[field]
        m.count += 1
        let delta = value - m.mean
        m.mean += delta / m.count
        m.m2 += delta * (value - m.mean)
        moments[field] = m
    }

    /// Counts the tokens of one sequence value (`splitter`-joined UTF-8); nil or empty means an empty sequence.
    public mutating func addSequence(field: Int, utf8: UnsafeRawBufferPointer?) {
        guard let utf8, utf8.count > 0 else { return }
        let block = sequenceBlocks[field]
        var length = 0
        splitters[field].withUnsafeBytes { splitter in
            SequenceTokens.forEach(in: utf8, splitter: splitter) { token in
                length += 1
                if token.count > 0 { counters[block].add(token) }
            }
        }
        if length > longestSequence[field] { longestSequence[field] = length }
    }

    /// Counts one sequence value given as a String.
    public mutating func addSequence(field: Int, string: String?) {
        guard var string else { return addSequence(field: field, utf8: nil) }
        string.withUTF8 { addSequence(field: field, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Marks the end of a row fed through the per-field methods.
    public mutating func finishRow() {
        rowCount += 1
    }

    /// Adds every field of a row and counts the row.
    public mutating func add(_ row: RawRow) {
        for field in schema.numericFields.indices {
            addDense(field: field, raw: field < row.dense.count ? row.dense[field] : nil)
        }
        for field in schema.categoricalFields.indices {
            addCategorical(field: field, string: field < row.categorical.count ? row.categorical[field] : nil)
        }
        for field in schema.sequenceFields.indices {
            addSequence(field: field, string: field < row.sequences.count ? row.sequences[field] : nil)
        }
        finishRow()
    }

    /// Distinct values seen so far in a vocabulary block, before the minimum-count cut.
    public func distinctCount(field: Int) -> Int {
        counters[field].distinctCount
    }

    /// A map that extends `parent` (warm start): every value `parent` knows keeps its place in its block, values
    /// seen here at least the minimum count and new to `parent` follow it in descending-count order; `parent`'s
    /// numeric transforms, sequence lengths and missing input are kept, so known fields mean what the parent's
    /// model learned. The schemas must encode alike (same fields, kinds and settings), which the caller checks.
    public func build(extending parent: FeatureMap) -> FeatureMap {
        let blockMinimums = schema.vocabularyBlockFields.map { $0.minCount ?? minCount }
        let vocabularies = zip(zip(counters, blockMinimums), parent.vocabularies).map { pair, known -> [String] in
            let seen = Set(known)
            return known + pair.0.vocabulary(minCount: pair.1).filter { !seen.contains($0) }
        }
        return FeatureMap(
            uncheckedSchema: parent.schema, vocabularies: vocabularies, denseScales: parent.denseScales,
            numericShifts: parent.numericShifts, sequenceLengths: parent.sequenceLengths, minCount: minCount,
            rowCount: rowCount, denseMissingValue: parent.denseMissingValue)
    }

    /// The fitted map: vocabularies cut at their minimum count in descending-count order, numeric
    /// transforms, and sequence lengths (the declared `max_len`, else the longest seen, at least 1).
    public func build() -> FeatureMap {
        let blockMinimums = schema.vocabularyBlockFields.map { $0.minCount ?? minCount }
        var shifts: [Double] = [], scales: [Double] = []
        for field in bucketed.indices {
            if bucketed[field] {
                shifts.append(0)
                scales.append(maxima[field])
                continue
            }
            let seen = moments[field].count > 0
            switch normalizers[field] {
            case .none:
                shifts.append(0)
                scales.append(1)
            case .standardScaler:
                // scikit-learn: population standard deviation; a constant column keeps scale 1.
                let std = seen ? (moments[field].m2 / moments[field].count).squareRoot() : 0
                shifts.append(seen ? moments[field].mean : 0)
                scales.append(std > 0 && std.isFinite ? std : 1)
            case .minMaxScaler:
                let range = seen ? maxima[field] - minima[field] : 0
                shifts.append(seen ? minima[field] : 0)
                scales.append(range > 0 && range.isFinite ? range : 1)
            }
        }
        let lengths = schema.sequenceFields.enumerated().map { index, field in
            let declared = field.sequence?.maxLength ?? 0
            return declared > 0 ? declared : max(1, longestSequence[index])
        }
        return FeatureMap(
            uncheckedSchema: schema,
            vocabularies: zip(counters, blockMinimums).map { $0.vocabulary(minCount: $1) },
            denseScales: scales, numericShifts: shifts, sequenceLengths: lengths, minCount: minCount,
            rowCount: rowCount, denseMissingValue: FeatureMap.defaultDenseMissingValue)
    }
}
