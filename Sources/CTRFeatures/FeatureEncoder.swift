/// Turns raw field values into model inputs with a fitted ``FeatureMap``; the same code runs in training and serving.
///
/// All per-value methods are allocation-free; build one encoder per map and share it (it is immutable).
public struct FeatureEncoder: Sendable {
    /// The map this encoder was built from.
    public let map: FeatureMap
    private let index: VocabularyIndex
    private let offsets: [Int64]
    private let inverseScales: [Double]
    @usableFromInline let missingDense: Float

    /// Builds the lookup table for a map (linear in its vocabulary size).
    public init(map: FeatureMap) {
        self.init(map: map, hashMask: ~0)
    }

    /// Builds an encoder whose table keeps only `hashMask` bits of each hash, so tests can force collisions.
    init(map: FeatureMap, hashMask: UInt64) {
        self.map = map
        let offsets = map.fieldOffsets
        self.offsets = offsets.map { Int64($0) }
        index = VocabularyIndex(vocabularies: map.vocabularies, offsets: offsets,
                                totalSize: map.totalVocabularySize, hashMask: hashMask)
        inverseScales = map.denseScales.map { 1 / $0 }
        missingDense = Float(map.denseMissingValue)
    }

    /// Parses a field name ("I1"..."I13", "C1"..."C26") from UTF-8 bytes without allocating.
    @inlinable
    public static func field(named utf8: UnsafeRawBufferPointer) -> FieldRef? {
        let count = utf8.count
        guard count == 2 || count == 3 else { return nil }
        let kind = utf8[0]
        let d1 = utf8[1] &- UInt8(ascii: "0")
        guard d1 >= 1 && d1 <= 9 else { return nil }  // no leading zero, no "I0"
        var n = Int(d1)
        if count == 3 {
            let d2 = utf8[2] &- UInt8(ascii: "0")
            guard d2 <= 9 else { return nil }
            n = n * 10 + Int(d2)
        }
        switch kind {
        case UInt8(ascii: "I") where n <= CriteoSchema.denseCount: return .dense(n - 1)
        case UInt8(ascii: "C") where n <= CriteoSchema.categoricalCount: return .categorical(n - 1)
        default: return nil
        }
    }

    /// Parses a field name ("I7" -> `.dense(6)`, "C1" -> `.categorical(0)`).
    public static func field(named name: String) -> FieldRef? {
        var name = name
        return name.withUTF8 { field(named: UnsafeRawBufferPointer($0)) }
    }

    /// The model input for dense field `field` (0..<13): ``DenseTransform`` divided by the field's scale; nil -> the map's `denseMissingValue`.
    @inlinable
    public func denseValue(field: Int, raw: Double?) -> Float {
        guard let raw else { return missingDense }
        return Float(DenseTransform.apply(raw) * inverseScale(field))
    }

    @usableFromInline
    func inverseScale(_ field: Int) -> Double { inverseScales[field] }

    /// The global id for categorical field `field` (0..<26): nil or empty -> missing, unseen -> OOV.
    @inline(__always)
    public func categoricalID(field: Int, utf8: UnsafeRawBufferPointer?) -> Int64 {
        let offset = offsets[field]
        guard let utf8, utf8.count > 0 else { return offset + Int64(FeatureMap.missingIndex) }
        guard let id = index.globalID(field: field, value: utf8) else { return offset + Int64(FeatureMap.oovIndex) }
        return Int64(id)
    }

    /// The global id for categorical field `field` given a String; same rules as the UTF-8 variant.
    public func categoricalID(field: Int, string: String?) -> Int64 {
        guard var string else { return categoricalID(field: field, utf8: nil) }
        return string.withUTF8 { categoricalID(field: field, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Writes a row's 26 global ids to `ids` and 13 scaled dense values to `dense`.
    public func encode(_ row: RawRow, ids: UnsafeMutablePointer<Int64>, dense: UnsafeMutablePointer<Float>) {
        for field in 0..<CriteoSchema.denseCount {
            let raw = field < row.dense.count ? row.dense[field] : nil
            dense[field] = denseValue(field: field, raw: raw.map(Double.init))
        }
        for field in 0..<CriteoSchema.categoricalCount {
            let value = field < row.categorical.count ? row.categorical[field] : nil
            ids[field] = categoricalID(field: field, string: value)
        }
    }
}
