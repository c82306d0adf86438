import Foundation

/// The fitted vocabularies and numeric transforms that turn raw rows of a ``FeatureSchema`` into model
/// inputs; saved as features.json.
///
/// Id scheme: every vocabulary owns a contiguous block of one shared embedding table starting at
/// `fieldOffsets[b]`. Blocks are the categorical fields in order, then the sequence fields that do not
/// share a categorical field's vocabulary. Within a block, local id 0 is out-of-vocabulary, 1 is missing
/// (and a sequence's padding), and 2... are the vocabulary values in descending training count, ties
/// broken by ascending UTF-8 bytes. Numeric inputs are `(transform(x) - shift) / scale` per field, where
/// the transform is Criteo's ``DenseTransform`` for `convert_to_bucket` fields and the identity otherwise.
///
/// Maps imported from FuxiCTR (``Encoding/fuxictr``, format version 3) keep FuxiCTR's own encoding instead;
/// see ``Encoding``. Internally their values still get unique global ids (the lookup table needs them);
/// ``FeatureEncoder`` turns those into FuxiCTR's per-feature indices.
public struct FeatureMap: Sendable {
    /// The newest features.json format this code reads (1: Criteo only, no schema; 2: any schema, our
    /// encoding; 3: any schema, FuxiCTR's encoding).
    public static let formatVersion = 3
    /// The format maps fitted here are written in.
    public static let trainedFormatVersion = 2
    /// The format of maps imported from FuxiCTR.
    public static let fuxictrFormatVersion = 3

    /// How raw values become model inputs.
    public enum Encoding: String, Sendable, Equatable, Hashable {
        /// Ours: one global id space (``fieldOffsets``), local 0 = OOV, 1 = missing and padding; numbers are
        /// `(transform(x) - shift) / scale`; three inputs (`sparse_ids`, `dense`, `sequence_ids`).
        case clickwise
        /// FuxiCTR's: per-feature indices with 0 = `__PAD__`, 1... = the vocabulary in listed order and
        /// vocabulary size + 1 = `__OOV__`; a missing value takes its `fill_na` first (so it is usually OOV);
        /// numbers go through the fitted scikit-learn scaler as scikit-learn applies it (StandardScaler:
        /// `(x - shift) / scale` with `shift = mean_`, `scale = scale_`; MinMaxScaler: `x * scale + shift` with
        /// `scale = scale_`, `shift = min_`; none: `x`); one ONNX input per feature, named after it.
        case fuxictr
    }
    /// Local id of out-of-vocabulary values within every block.
    public static let oovIndex = 0
    /// Local id of missing values (and sequence padding) within every block.
    public static let missingIndex = 1
    /// Local id of the first vocabulary value within every block.
    public static let firstVocabularyIndex = 2

    /// The format this map is written in: 1 for maps read from a version-1 file (their bytes and
    /// fingerprint stay as they were), 2 otherwise.
    public private(set) var version: Int
    /// Our encoding, or FuxiCTR's for imported maps (format version 3).
    public var encoding: Encoding { version == Self.fuxictrFormatVersion ? .fuxictr : .clickwise }
    /// The declared fields this map encodes.
    public private(set) var schema: FeatureSchema
    /// The minimum training count a value needed to get its own id (the run's default; fields may override).
    public private(set) var minCount: Int
    /// Number of rows the map was fitted on (informational; not part of the fingerprint).
    public private(set) var rowCount: Int
    /// Per vocabulary block, the values in local-id order (value `i` has local id `i + 2`); empty blocks in a
    /// map from ``releasingVocabularyValues()``.
    public private(set) var vocabularies: [[String]]
    /// Per vocabulary block, the number of values: what ids and sizes derive from, kept when the values go.
    private var blockValueCounts: [Int]
    /// The fingerprint taken just before the values were released (computing it needs them).
    var releasedFingerprint: String?
    /// Per numeric field, the divisor applied after the transform (> 0; >= 1 for `convert_to_bucket`).
    public private(set) var denseScales: [Double]
    /// Per numeric field, the value subtracted before dividing (a StandardScaler's mean, a MinMaxScaler's min).
    public private(set) var numericShifts: [Double]
    /// Per sequence field, the number of tokens kept (the declared `max_len`, or the longest seen in training).
    public private(set) var sequenceLengths: [Int]
    /// The model input for a missing `convert_to_bucket` value. Present values land in [-1, 1] after scaling,
    /// so the default -2 lets a model tell "missing" from a present 0; maps written before this setting
    /// existed (no `denseMissingValue` in features.json) use 0, as their models were trained with.
    public private(set) var denseMissingValue: Double
    /// What fitting records for missing `convert_to_bucket` values (chosen on validation AUC, docs/TRAINING.md).
    public static let defaultDenseMissingValue = -2.0
    /// Name of the model's int64 [B, categorical fields] input of global ids.
    public var sparseInputName = "sparse_ids"
    /// Name of the model's float32 [B, numeric fields] input of transformed numbers.
    public var denseInputName = "dense"
    /// Name of the model's int64 [B, sum of sequence lengths] input of global ids.
    public var sequenceInputName = "sequence_ids"
    /// Name of the model's float32 [B, 1] output of click probabilities.
    public var outputName = "probability"
    /// How the training files were laid out (separator, header or column names), so tools can read more of
    /// the same data with the bundle alone; not part of the fingerprint.
    public var dataLayout = DataLayout()
    /// The fingerprint recorded in the file this map was decoded from, checked at load.
    var recordedFingerprint: String?

    /// Creates a Criteo-preset map from explicit vocabularies and scales, validating them.
    public init(vocabularies: [[String]], denseScales: [Double], minCount: Int, rowCount: Int = 0,
                denseMissingValue: Double = 0) throws(FeatureMapError) {
        self.init(uncheckedSchema: .criteo, vocabularies: vocabularies, denseScales: denseScales,
                  numericShifts: Array(repeating: 0, count: denseScales.count), sequenceLengths: [],
                  minCount: minCount, rowCount: rowCount, denseMissingValue: denseMissingValue)
        try validate(path: nil)
    }

    /// Creates a map for any schema from explicit contents, validating them.
    public init(schema: FeatureSchema, vocabularies: [[String]], denseScales: [Double], numericShifts: [Double],
                sequenceLengths: [Int], minCount: Int, rowCount: Int = 0,
                denseMissingValue: Double = FeatureMap.defaultDenseMissingValue) throws(FeatureMapError) {
        self.init(uncheckedSchema: schema, vocabularies: vocabularies, denseScales: denseScales, numericShifts: numericShifts,
                  sequenceLengths: sequenceLengths, minCount: minCount, rowCount: rowCount, denseMissingValue: denseMissingValue)
        try validate(path: nil)
    }

    init(uncheckedSchema schema: FeatureSchema, vocabularies: [[String]], denseScales: [Double], numericShifts: [Double],
         sequenceLengths: [Int], minCount: Int, rowCount: Int, denseMissingValue: Double, version: Int = FeatureMap.trainedFormatVersion) {
        self.schema = schema
        self.vocabularies = vocabularies
        blockValueCounts = vocabularies.map(\.count)
        self.denseScales = denseScales
        self.numericShifts = numericShifts
        self.sequenceLengths = sequenceLengths
        self.denseMissingValue = denseMissingValue
        self.minCount = minCount
        self.rowCount = rowCount
        self.version = version
    }

    /// Creates a map in FuxiCTR's encoding (``Encoding/fuxictr``), validating it.
    ///
    /// `vocabularies` hold each block's tokens in FuxiCTR's index order (token `i` has index `i + 1`);
    /// `numericShifts` and `numericScales` are the fitted scalers' constants as ``Encoding/fuxictr`` reads
    /// them (0 and 1 for fields without a normalizer).
    public init(fuxictrSchema schema: FeatureSchema, vocabularies: [[String]], numericShifts: [Double], numericScales: [Double],
                sequenceLengths: [Int], outputName: String) throws(FeatureMapError) {
        self.init(uncheckedSchema: schema, vocabularies: vocabularies, denseScales: numericScales, numericShifts: numericShifts,
                  sequenceLengths: sequenceLengths, minCount: schema.minCount, rowCount: 0, denseMissingValue: 0,
                  version: Self.fuxictrFormatVersion)
        self.outputName = outputName
        try validate(path: nil)
    }

    /// Fits vocabularies (values seen at least `minCount` times) and dense scales on Criteo rows.
    public static func fit<S: Sequence>(_ rows: S, minCount: Int = 10) -> FeatureMap where S.Element == RawRow {
        var builder = FeatureMapBuilder(minCount: minCount)
        for row in rows { builder.add(row) }
        return builder.build()
    }

    /// Reads and validates a features.json file.
    public init(contentsOf url: URL) throws(FeatureMapError) {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = (error as? CocoaError)?.code == .fileReadNoSuchFile ? "no such file" : "\(error.localizedDescription)"
            throw FeatureMapError(.unreadable, path: path, detail: reason)
        }
        do {
            self = try JSONDecoder().decode(FeatureMap.self, from: data)
        } catch let error as DecodingError {
            throw FeatureMapError(.malformedJSON, path: path, detail: Self.describe(error))
        } catch let error as FeatureMapError {
            throw FeatureMapError(error.code, path: path, detail: error.detail)
        } catch {
            throw FeatureMapError(.malformedJSON, path: path, detail: "\(error)")
        }
        try validate(path: path)
        if let recorded = recordedFingerprint, recorded != fingerprint {
            throw FeatureMapError(.fingerprintMismatch, path: path,
                                  detail: "recorded \(recorded) but the content hashes to \(fingerprint); the file was edited or damaged")
        }
    }

    /// Writes the map as pretty-printed features.json (see ``jsonBytes()``), atomically.
    public func write(to url: URL) throws(FeatureMapError) {
        do {
            try Data(jsonBytes()).write(to: url, options: .atomic)
        } catch {
            throw FeatureMapError(.writeFailed, path: url.path, detail: "\(error.localizedDescription)")
        }
    }

    /// Start of each vocabulary block in the shared embedding table.
    public var fieldOffsets: [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(blockValueCounts.count)
        var next = 0
        for count in blockValueCounts {
            offsets.append(next)
            next += count + Self.firstVocabularyIndex
        }
        return offsets
    }

    /// Size of each vocabulary block, including its OOV and missing ids.
    public var fieldVocabularySizes: [Int] {
        blockValueCounts.map { $0 + Self.firstVocabularyIndex }
    }

    /// Rows of the shared embedding table: the sum of ``fieldVocabularySizes``.
    public var totalVocabularySize: Int {
        blockValueCounts.reduce(0) { $0 + $1 + Self.firstVocabularyIndex }
    }

    /// Whether ``vocabularies`` holds the values: false for a map from ``releasingVocabularyValues()``.
    public var hasVocabularyValues: Bool { releasedFingerprint == nil }

    /// This map without its vocabulary values: the same ids, sizes, signature and fingerprint, no strings.
    ///
    /// A server looks values up in its encoder's index and never reads them from the map again, and at
    /// Criteo scale they are millions of 16-byte `String`s (2.47M values: 38 MiB, docs/BENCHMARKS.md) held
    /// for nothing. The result cannot build an encoder or be written; renaming its tensors afterwards leaves
    /// the kept fingerprint stale, so do that first.
    public func releasingVocabularyValues() -> FeatureMap {
        guard hasVocabularyValues else { return self }
        var released = self
        released.releasedFingerprint = fingerprint
        released.vocabularies = blockValueCounts.map { _ in [] }
        return released
    }

    /// The name of each vocabulary block: its categorical or (unshared) sequence field.
    public var blockNames: [String] {
        schema.vocabularyBlockFields.map(\.name)
    }

    /// Per sequence field, the vocabulary block its tokens are looked up in.
    public var sequenceBlocks: [Int] { schema.sequenceBlocks }

    /// Per sequence field, the global id of padding (its block's missing id), which pooling masks out.
    public var sequencePaddingIDs: [Int64] {
        let offsets = fieldOffsets
        return sequenceBlocks.map { Int64(offsets[$0] + Self.missingIndex) }
    }

    /// Columns of the sequence input: the sum of ``sequenceLengths``.
    public var totalSequenceLength: Int { sequenceLengths.reduce(0, +) }

    /// Whether every numeric field uses Criteo's `convert_to_bucket`, so a model may embed it per bucket.
    public var numericFieldsAreBucketed: Bool {
        schema.numericFields.allSatisfy { $0.preprocess == .convertToBucket }
    }

    /// The dataset config this map's data is read with: its schema and file layout (files themselves unset).
    public var datasetConfig: DatasetConfig {
        // Criteo maps made in code carry no layout: their data is Criteo's TSV.
        if version == 1 || (schema.isCriteo && dataLayout == DataLayout()) { return .criteoPreset }
        return DatasetConfig(path: "<features.json>", schema: schema, separator: dataLayout.separator,
                             columnNames: dataLayout.columnNames)
    }

    /// The model's inputs and output as this map encodes them.
    public var signature: ModelSignature {
        ModelSignature(map: self)
    }

    /// Checks counts, names, scales and vocabularies; `path` only labels the error.
    func validate(path: String?) throws(FeatureMapError) {
        do {
            try schema.validate()
        } catch {
            throw FeatureMapError(.schemaMismatch, path: path, detail: error.detail)
        }
        if version == 1, !schema.isCriteo {
            throw FeatureMapError(.schemaMismatch, path: path, detail: "a version-1 map must use the Criteo layout")
        }
        if encoding == .fuxictr, let bucketed = schema.numericFields.first(where: { $0.preprocess != .none }) {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "\(bucketed.name): preprocess \(bucketed.preprocess.rawValue) is not part of FuxiCTR's encoding here")
        }
        let names = blockNames
        guard vocabularies.count == names.count else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "expected \(names.count) vocabularies (categorical and unshared sequence fields), found \(vocabularies.count)")
        }
        let numeric = schema.numericFields
        guard denseScales.count == numeric.count, numericShifts.count == numeric.count else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "expected \(numeric.count) numeric fields, found \(denseScales.count) scales and \(numericShifts.count) shifts")
        }
        for (field, scale) in denseScales.enumerated() {
            let bucketed = numeric[field].preprocess == .convertToBucket && encoding == .clickwise
            guard scale.isFinite, bucketed ? scale >= 1 : scale > 0, numericShifts[field].isFinite else {
                throw FeatureMapError(.invalidScale, path: path,
                                      detail: "\(numeric[field].name) has scale \(scale) and shift \(numericShifts[field]); scales must be finite and \(bucketed ? ">= 1" : "> 0")")
            }
        }
        let sequences = schema.sequenceFields
        guard sequenceLengths.count == sequences.count else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "expected \(sequences.count) sequence lengths, found \(sequenceLengths.count)")
        }
        for (field, length) in sequenceLengths.enumerated() where length < 1 {
            throw FeatureMapError(.schemaMismatch, path: path, detail: "\(sequences[field].name) has length \(length); it must be >= 1")
        }
        guard minCount >= 1 else {
            throw FeatureMapError(.invalidVocabulary, path: path, detail: "minCount is \(minCount); it must be >= 1")
        }
        for (block, vocabulary) in vocabularies.enumerated() {
            if let empty = vocabulary.firstIndex(of: "") {
                throw FeatureMapError(.invalidVocabulary, path: path,
                                      detail: "\(names[block]) entry \(empty) is empty; empty means missing and has id 1")
            }
        }
        let tensorNames = signature.inputs.map(\.name) + [outputName]
        for name in tensorNames where name.isEmpty {
            throw FeatureMapError(.schemaMismatch, path: path, detail: "tensor names must not be empty")
        }
        guard Set(tensorNames).count == tensorNames.count else {
            throw FeatureMapError(.schemaMismatch, path: path, detail: "tensor names must differ: \(tensorNames.joined(separator: ", "))")
        }
        let totalSize = totalVocabularySize
        guard totalSize <= VocabularyIndex.maxTotalSize else {
            throw FeatureMapError(.invalidVocabulary, path: path,
                                  detail: "\(totalSize) embedding rows in all; at most \(VocabularyIndex.maxTotalSize) are supported")
        }
        let index = VocabularyIndex(vocabularies: vocabularies, offsets: fieldOffsets, totalSize: totalSize)
        if let duplicate = index.firstDuplicate {
            throw FeatureMapError(.invalidVocabulary, path: path,
                                  detail: "\(names[duplicate.field]) lists \"\(duplicate.value)\" more than once")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
                .joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return "not valid JSON at \(at(context.codingPath)): \(context.debugDescription)\(underlying)"
        case .keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\" at \(at(context.codingPath))"
        case .typeMismatch(let type, let context):
            return "wrong type at \(at(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "null at \(at(context.codingPath)): expected \(type)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The layout of a dataset's files: the separator and either a header row or the column names.
public struct DataLayout: Sendable, Equatable, Codable {
    /// The field separator byte.
    public var separator: UInt8
    /// The columns of header-less files; nil: files start with a header row.
    public var columnNames: [String]?

    /// A layout; the default is comma-separated with a header.
    public init(separator: UInt8 = UInt8(ascii: ","), columnNames: [String]? = nil) {
        self.separator = separator
        self.columnNames = columnNames
    }

    private enum Key: String, CodingKey { case sep, columnNames }

    /// Decodes `{"sep": ",", "columnNames": [...]}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let sep = try c.decode(String.self, forKey: .sep)
        separator = sep.utf8.first ?? UInt8(ascii: ",")
        columnNames = try c.decodeIfPresent([String].self, forKey: .columnNames)
    }

    /// Encodes `{"sep": ",", "columnNames": [...]}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(String(decoding: [separator], as: UTF8.self), forKey: .sep)
        try c.encodeIfPresent(columnNames, forKey: .columnNames)
    }
}

extension FeatureMap {
    /// The same map with exactly `names` marked as context fields (`source: context`; fields marked `user`
    /// before keep it when still listed): what `clickwise export ranking` records. The fingerprint does not change.
    public func markingContext(_ names: Set<String>) -> FeatureMap {
        var copy = self
        for index in copy.schema.fields.indices {
            let field = copy.schema.fields[index]
            if names.contains(field.name) {
                if !field.isContext { copy.schema.fields[index].source = "context" }
            } else if field.isContext {
                copy.schema.fields[index].source = nil
            }
        }
        return copy
    }
}
