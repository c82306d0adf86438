/// Turns raw field values into model inputs with a fitted ``FeatureMap``; the same code runs in training and serving.
///
/// Field indices count within a kind, in schema order (`categoricalID(field: 0, ...)` is the first
/// categorical field). All per-value methods are allocation-free; build one encoder per map and share
/// it (it is immutable).
public struct FeatureEncoder: Sendable {
    /// The map this encoder was built from.
    public let map: FeatureMap
    private let index: VocabularyIndex
    private let offsets: [Int64]
    private let categoricalMissing: [Int64]
    @usableFromInline let bucketed: [Bool]
    @usableFromInline let shifts: [Double]
    @usableFromInline let inverseScales: [Double]
    @usableFromInline let numericMissing: [Float]
    private let sequenceBlocks: [Int]
    private let sequencePadding: [Int64]
    /// Per sequence field, its first column in the sequence input.
    public let sequenceStarts: [Int]
    /// Per sequence field, its number of columns (tokens kept).
    public let sequenceLengths: [Int]
    private let sequencePre: [Bool]
    private let splitters: [[UInt8]]

    /// Builds the lookup table for a map (linear in its vocabulary size).
    public init(map: FeatureMap) {
        self.init(map: map, hashMask: ~0)
    }

    /// Builds an encoder whose table keeps only `hashMask` bits of each hash, so tests can force collisions.
    init(map: FeatureMap, hashMask: UInt64) {
        self.map = map
        let schema = map.schema
        let offsets = map.fieldOffsets
        self.offsets = offsets.map { Int64($0) }
        let index = VocabularyIndex(vocabularies: map.vocabularies, offsets: offsets,
                                    totalSize: map.totalVocabularySize, hashMask: hashMask)
        self.index = index
        categoricalMissing = schema.categoricalFields.enumerated().map { block, field in
            let missing = Int64(offsets[block] + FeatureMap.missingIndex)
            guard var fill = field.tokenFill else { return missing }
            let id = fill.withUTF8 { index.globalID(field: block, value: UnsafeRawBufferPointer($0)) }
            return id.map(Int64.init) ?? Int64(offsets[block] + FeatureMap.oovIndex)
        }
        let numeric = schema.numericFields
        bucketed = numeric.map { $0.preprocess == .convertToBucket }
        let shifts = map.numericShifts, inverseScales = map.denseScales.map { 1 / $0 }
        self.shifts = shifts
        self.inverseScales = inverseScales
        numericMissing = numeric.enumerated().map { field, spec in
            guard let fill = spec.numericFill else { return Float(map.denseMissingValue) }
            return Self.numericInput(fill, bucketed: spec.preprocess == .convertToBucket, shift: shifts[field],
                                     inverseScale: inverseScales[field])
        }
        sequenceBlocks = map.sequenceBlocks
        sequencePadding = map.sequencePaddingIDs
        sequenceLengths = map.sequenceLengths
        var starts: [Int] = [], next = 0
        for length in map.sequenceLengths {
            starts.append(next)
            next += length
        }
        sequenceStarts = starts
        sequencePre = schema.sequenceFields.map { $0.sequence?.padding != .post }
        splitters = schema.sequenceFields.map { Array(($0.sequence?.splitter ?? "^").utf8) }
    }

    /// Columns of the categorical input.
    public var categoricalCount: Int { categoricalMissing.count }
    /// Columns of the numeric input.
    public var numericCount: Int { bucketed.count }
    /// Columns of the sequence input.
    public var sequenceWidth: Int { map.totalSequenceLength }

    /// The model input for numeric field `field`: its transform, minus its shift, over its scale; nil -> its missing input.
    @inlinable
    public func denseValue(field: Int, raw: Double?) -> Float {
        guard let raw else { return numericMissing[field] }
        return Self.numericInput(raw, bucketed: bucketed[field], shift: shifts[field], inverseScale: inverseScales[field])
    }

    /// A present number's model input: the transform (Criteo's for bucket fields), minus the shift, times 1 / scale.
    @inlinable
    static func numericInput(_ raw: Double, bucketed: Bool, shift: Double, inverseScale: Double) -> Float {
        let x = bucketed ? DenseTransform.apply(raw) : raw
        return Float((x - shift) * inverseScale)
    }

    /// The global id for categorical field `field`: nil or empty -> missing (or its `fill_na`), unseen -> OOV.
    @inline(__always)
    public func categoricalID(field: Int, utf8: UnsafeRawBufferPointer?) -> Int64 {
        guard let utf8, utf8.count > 0 else { return categoricalMissing[field] }
        guard let id = index.globalID(field: field, value: utf8) else { return offsets[field] + Int64(FeatureMap.oovIndex) }
        return Int64(id)
    }

    /// The global id for categorical field `field` given a String; same rules as the UTF-8 variant.
    public func categoricalID(field: Int, string: String?) -> Int64 {
        guard var string else { return categoricalID(field: field, utf8: nil) }
        return string.withUTF8 { categoricalID(field: field, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The global id of one sequence token: empty -> padding, unseen -> OOV.
    @inline(__always)
    public func sequenceTokenID(field: Int, utf8: UnsafeRawBufferPointer) -> Int64 {
        guard utf8.count > 0 else { return sequencePadding[field] }
        let block = sequenceBlocks[field]
        guard let id = index.globalID(field: block, value: utf8) else { return offsets[block] + Int64(FeatureMap.oovIndex) }
        return Int64(id)
    }

    /// Writes sequence field `field`'s ``sequenceLengths`` ids to `out` from `splitter`-joined text; nil or empty -> all padding.
    ///
    /// Truncates and pads on the field's `padding` side, as FuxiCTR's `pad_sequences` does: `pre` keeps the
    /// last tokens and pads at the front, `post` keeps the first and pads at the end.
    public func encodeSequence(field: Int, utf8: UnsafeRawBufferPointer?, into out: UnsafeMutablePointer<Int64>) {
        guard let utf8, utf8.count > 0 else {
            out.update(repeating: sequencePadding[field], count: sequenceLengths[field])
            return
        }
        splitters[field].withUnsafeBytes { splitter in
            var total = 0
            SequenceTokens.forEach(in: utf8, splitter: splitter) { _ in total += 1 }
            encodeSequence(field: field, tokenCount: total, into: out) { body in
                SequenceTokens.forEach(in: utf8, splitter: splitter, body)
            }
        }
    }

    /// Writes sequence field `field`'s ids to `out` from `tokenCount` tokens that `forEachToken` yields in order.
    @inline(__always)
    public func encodeSequence(field: Int, tokenCount: Int, into out: UnsafeMutablePointer<Int64>,
                               forEachToken: ((UnsafeRawBufferPointer) -> Void) -> Void) {
        let length = sequenceLengths[field], pad = sequencePadding[field]
        let kept = min(tokenCount, length)
        // pre: drop the first tokens beyond the length and right-align; post: keep the first, left-align.
        let skip = sequencePre[field] ? tokenCount - kept : 0
        let base = sequencePre[field] ? length - kept : 0
        if sequencePre[field] {
            out.update(repeating: pad, count: base)
        } else {
            (out + kept).update(repeating: pad, count: length - kept)
        }
        var position = 0
        forEachToken { token in
            defer { position += 1 }
            guard position >= skip, position - skip < kept else { return }
            out[base + position - skip] = sequenceTokenID(field: field, utf8: token)
        }
    }

    /// Writes a row's ids, numbers and sequence ids to the three inputs (`sequences` may be nil without sequence fields).
    public func encode(_ row: RawRow, ids: UnsafeMutablePointer<Int64>, dense: UnsafeMutablePointer<Float>,
                       sequences: UnsafeMutablePointer<Int64>? = nil) {
        for field in 0..<numericCount {
            dense[field] = denseValue(field: field, raw: field < row.dense.count ? row.dense[field] : nil)
        }
        for field in 0..<categoricalCount {
            ids[field] = categoricalID(field: field, string: field < row.categorical.count ? row.categorical[field] : nil)
        }
        guard let sequences else { return }
        for field in sequenceLengths.indices {
            var text = field < row.sequences.count ? row.sequences[field] : nil
            if text == nil {
                encodeSequence(field: field, utf8: nil, into: sequences + sequenceStarts[field])
            } else {
                text!.withUTF8 { encodeSequence(field: field, utf8: UnsafeRawBufferPointer($0), into: sequences + sequenceStarts[field]) }
            }
        }
    }
}
