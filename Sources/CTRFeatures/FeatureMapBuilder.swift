/// Accumulates counts and dense maxima over training rows, then builds a ``FeatureMap``.
///
/// Streaming: memory grows with the number of distinct values, not rows. The byte-level `add`
/// methods let a reader feed values without making a String per field.
public struct FeatureMapBuilder: Sendable {
    /// Values seen fewer times than this fall into their field's OOV id.
    public let minCount: Int
    /// Rows added so far (counted by ``add(_:)`` and ``finishRow()``).
    public private(set) var rowCount = 0
    private var counters: [ValueCounter]
    private var denseMaxima: [Double]

    /// Creates an empty builder; `minCount` is clamped to at least 1.
    public init(minCount: Int = 10) {
        self.minCount = max(1, minCount)
        counters = (0..<CriteoSchema.categoricalCount).map { ValueCounter(seed: UInt64($0) &+ 0x5EED) }
        // A scale is at least 1, so start the running maximum there.
        denseMaxima = Array(repeating: 1, count: CriteoSchema.denseCount)
    }

    /// Counts one categorical value given as UTF-8 bytes; nil or empty means missing and is not counted.
    public mutating func addCategorical(field: Int, utf8: UnsafeRawBufferPointer?) {
        guard let utf8, utf8.count > 0 else { return }
        counters[field].add(utf8)
    }

    /// Counts one categorical value; nil or empty means missing and is not counted.
    public mutating func addCategorical(field: Int, string: String?) {
        guard var string, !string.isEmpty else { return }
        string.withUTF8 { counters[field].add(UnsafeRawBufferPointer($0)) }
    }

    /// Records one dense value for the field's scale; nil means missing.
    public mutating func addDense(field: Int, raw: Double?) {
        guard let raw else { return }
        let transformed = DenseTransform.apply(raw)
        if transformed > denseMaxima[field] { denseMaxima[field] = transformed }
    }

    /// Marks the end of a row fed through the per-field methods.
    public mutating func finishRow() {
        rowCount += 1
    }

    /// Adds every field of a row and counts the row.
    public mutating func add(_ row: RawRow) {
        for (field, value) in row.dense.prefix(CriteoSchema.denseCount).enumerated() {
            addDense(field: field, raw: value.map(Double.init))
        }
        for (field, value) in row.categorical.prefix(CriteoSchema.categoricalCount).enumerated() {
            addCategorical(field: field, string: value)
        }
        finishRow()
    }

    /// Distinct values seen so far in a categorical field, before the minimum-count cut.
    public func distinctCount(field: Int) -> Int {
        counters[field].distinctCount
    }

    /// The fitted map: vocabularies cut at `minCount` in descending-count order, and dense scales.
    public func build() -> FeatureMap {
        FeatureMap(uncheckedVocabularies: counters.map { $0.vocabulary(minCount: minCount) },
                   denseScales: denseMaxima, minCount: minCount, rowCount: rowCount,
                   denseMissingValue: FeatureMap.defaultDenseMissingValue)
    }
}
