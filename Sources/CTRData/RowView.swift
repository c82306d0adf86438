import CTRFeatures

/// One parsed row seen directly in the reader's buffer: no String is made unless asked for.
///
/// Valid only inside the ``CriteoReader/forEachRow(limit:_:)`` callback that received it; its byte
/// pointers dangle afterwards, so never store it or its buffers.
public struct RowView {
    /// One-based line number of this row in the file.
    public let lineNumber: Int
    /// The click label, or nil when the reader was told the file has no label column.
    public let label: Float?
    private let base: UnsafeRawPointer
    private let bounds: UnsafePointer<Int>
    private let denseValues: UnsafePointer<Int64>
    private let densePresent: UnsafePointer<Bool>
    private let firstCategorical: Int

    init(lineNumber: Int, label: Float?, base: UnsafeRawPointer, bounds: UnsafeMutablePointer<Int>,
         denseValues: UnsafeMutablePointer<Int64>, densePresent: UnsafeMutablePointer<Bool>, firstCategorical: Int) {
        self.lineNumber = lineNumber
        self.label = label
        self.base = base
        self.bounds = UnsafePointer(bounds)
        self.denseValues = UnsafePointer(denseValues)
        self.densePresent = UnsafePointer(densePresent)
        self.firstCategorical = firstCategorical
    }

    /// Integer field `field` (0..<13), or nil when missing.
    @inline(__always)
    public func dense(_ field: Int) -> Int64? {
        densePresent[field] ? denseValues[field] : nil
    }

    /// The UTF-8 bytes of categorical field `field` (0..<26), or nil when missing (empty).
    @inline(__always)
    public func categoricalUTF8(_ field: Int) -> UnsafeRawBufferPointer? {
        let slot = 2 * (firstCategorical + field)
        let start = bounds[slot], end = bounds[slot + 1]
        guard end > start else { return nil }
        return UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    /// Categorical field `field` (0..<26) as a String, or nil when missing; allocates.
    public func categorical(_ field: Int) -> String? {
        categoricalUTF8(field).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A standalone copy of this row; allocates one String per present categorical value.
    public func makeRawRow() -> RawRow {
        RawRow(label: label,
               dense: (0..<CriteoSchema.denseCount).map { dense($0).map(Double.init) },
               categorical: (0..<CriteoSchema.categoricalCount).map { categorical($0) })
    }

    /// Writes this row's 26 global ids and 13 scaled dense values straight from the bytes, without allocating.
    @inline(__always)
    public func encode(with encoder: FeatureEncoder, ids: UnsafeMutablePointer<Int64>, dense: UnsafeMutablePointer<Float>) {
        for field in 0..<CriteoSchema.denseCount {
            dense[field] = encoder.denseValue(field: field, raw: densePresent[field] ? Double(denseValues[field]) : nil)
        }
        for field in 0..<CriteoSchema.categoricalCount {
            ids[field] = encoder.categoricalID(field: field, utf8: categoricalUTF8(field))
        }
    }

    /// Feeds this row into a feature-map fit, straight from the bytes.
    public func add(to builder: inout FeatureMapBuilder) {
        for field in 0..<CriteoSchema.denseCount {
            builder.addDense(field: field, raw: densePresent[field] ? Double(denseValues[field]) : nil)
        }
        for field in 0..<CriteoSchema.categoricalCount {
            builder.addCategorical(field: field, utf8: categoricalUTF8(field))
        }
        builder.finishRow()
    }
}
