/// Turns raw field values into model inputs with a fitted ``FeatureMap``; the same code runs in training and serving.
///
/// Field indices count within a kind, in schema order (`categoricalID(field: 0, ...)` is the first
/// categorical field). All per-value methods are allocation-free; build one encoder per map and share
/// it (it is immutable). The map's ``FeatureMap/Encoding`` decides the ids and numbers: ours (global
/// ids) or FuxiCTR's (per-feature indices, scikit-learn's scalers); the per-value cost is the same.
public struct FeatureEncoder: Sendable {
    /// How a numeric field's number becomes its model input.
    @usableFromInline enum NumericRule: Sendable {
        /// Ours: the transform (Criteo's for bucket fields), minus the shift, times 1 / scale.
        case clickwise(bucketed: Bool)
        /// FuxiCTR without a normalizer: the number itself.
        case identity
        /// scikit-learn's StandardScaler.transform: `(x - mean_) / scale_`.
        case standardScaler
        /// scikit-learn's MinMaxScaler.transform: `x * scale_ + min_`.
        case minMaxScaler
    }

    /// The map this encoder was built from, without its vocabulary values (they live in the index now).
    public let map: FeatureMap
    private let index: VocabularyIndex
    /// Per block, what to subtract from a value's global id to get the model's id (0 for ours; FuxiCTR: offset + 1).
    private let idShifts: [Int64]
    /// Per block, the model id of a value not in its vocabulary.
    private let oovIDs: [Int64]
    private let categoricalMissing: [Int64]
    @usableFromInline let rules: [NumericRule]
    @usableFromInline let shifts: [Double]
    @usableFromInline let scales: [Double]
    @usableFromInline let inverseScales: [Double]
    @usableFromInline let numericMissing: [Float]
    private let sequenceBlocks: [Int]
    private let sequencePadding: [Int64]
    /// Per sequence field, the `fill_na` text whose tokens FuxiCTR turns into padding (empty: none beyond empty tokens).
    private let sequenceNA: [[UInt8]]
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
        precondition(map.hasVocabularyValues, "an encoder needs the vocabulary values; this map released them")
        self.map = map.releasingVocabularyValues()
        let schema = map.schema
        let offsets = map.fieldOffsets
        let fuxictr = map.encoding == .fuxictr
        let idShifts = offsets.map { Int64(fuxictr ? $0 + FeatureMap.firstVocabularyIndex - 1 : 0) }
        let oovIDs = zip(offsets, map.vocabularies).map { Int64(fuxictr ? $1.count + 1 : $0 + FeatureMap.oovIndex) }
        self.idShifts = idShifts
        self.oovIDs = oovIDs
        let index = VocabularyIndex(vocabularies: map.vocabularies, offsets: offsets,
                                    totalSize: map.totalVocabularySize, hashMask: hashMask)
        self.index = index
        categoricalMissing = schema.categoricalFields.enumerated().map { block, field in
            // FuxiCTR fills first and looks the fill up (it never keeps the fill in the vocabulary, so usually OOV).
            let missing = fuxictr ? oovIDs[block] : Int64(offsets[block] + FeatureMap.missingIndex)
            guard var fill = field.tokenFill else { return missing }
            let id = fill.withUTF8 { index.globalID(field: block, value: UnsafeRawBufferPointer($0)) }
            return id.map { Int64($0) - idShifts[block] } ?? oovIDs[block]
        }
        let numeric = schema.numericFields
        let rules: [NumericRule] = numeric.map { field in
            guard fuxictr else { return .clickwise(bucketed: field.preprocess == .convertToBucket) }
            switch field.normalizer {
            case .none: return .identity
            case .standardScaler: return .standardScaler
            case .minMaxScaler: return .minMaxScaler
            }
        }
        self.rules = rules
        let shifts = map.numericShifts, scales = map.denseScales, inverseScales = map.denseScales.map { 1 / $0 }
        self.shifts = shifts
        self.scales = scales
        self.inverseScales = inverseScales
        numericMissing = numeric.enumerated().map { field, spec in
            guard let fill = spec.numericFill else { return Float(map.denseMissingValue) }
            return Self.numericInput(fill, rule: rules[field], shift: shifts[field], scale: scales[field],
                                     inverseScale: inverseScales[field])
        }
        sequenceBlocks = map.sequenceBlocks
        sequencePadding = fuxictr ? Array(repeating: 0, count: schema.sequenceFields.count) : map.sequencePaddingIDs
        sequenceNA = schema.sequenceFields.map { fuxictr ? Array(($0.fillNA ?? "").utf8) : [] }
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
    public var numericCount: Int { rules.count }
    /// Columns of the sequence input.
    public var sequenceWidth: Int { map.totalSequenceLength }

    /// The model input for numeric field `field`: its transform, minus its shift, over its scale; nil -> its missing input.
    @inlinable
    public func denseValue(field: Int, raw: Double?) -> Float {
        guard let raw else { return numericMissing[field] }
        return Self.numericInput(raw, rule: rules[field], shift: shifts[field], scale: scales[field], inverseScale: inverseScales[field])
    }

    /// A present number's model input by its field's rule (see ``NumericRule``); double precision until the end.
    @inlinable
    static func numericInput(_ raw: Double, rule: NumericRule, shift: Double, scale: Double, inverseScale: Double) -> Float {
        switch rule {
        case .clickwise(let bucketed):
            let x = bucketed ? DenseTransform.apply(raw) : raw
            return Float((x - shift) * inverseScale)
        case .identity:
            return Float(raw)
        case .standardScaler:
            return Float((raw - shift) / scale)
        case .minMaxScaler:
            return Float(raw * scale + shift)
        }
    }

    /// The global id for categorical field `field`: nil or empty -> missing (or its `fill_na`), unseen -> OOV.
    @inline(__always)
    public func categoricalID(field: Int, utf8: UnsafeRawBufferPointer?) -> Int64 {
        guard let utf8, utf8.count > 0 else { return categoricalMissing[field] }
        guard let id = index.globalID(field: field, value: utf8) else { return oovIDs[field] }
        return Int64(id) - idShifts[field]
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
        if !sequenceNA[field].isEmpty, sequenceNA[field].elementsEqual(utf8) { return sequencePadding[field] }
        let block = sequenceBlocks[field]
        guard let id = index.globalID(field: block, value: utf8) else { return oovIDs[block] }
        return Int64(id) - idShifts[block]
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
