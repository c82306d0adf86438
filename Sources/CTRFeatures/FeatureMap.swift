import Foundation

/// The fitted vocabularies and dense scales that turn raw Criteo rows into model inputs; saved as features.json.
///
/// Id scheme: each categorical field owns a contiguous block of one shared embedding table starting at
/// `fieldOffsets[f]`. Within a block, local id 0 is out-of-vocabulary, 1 is missing, and 2... are the
/// vocabulary values in descending training count, ties broken by ascending UTF-8 bytes.
/// Dense inputs follow ``DenseTransform`` and are divided by the field's scale.
public struct FeatureMap: Sendable {
    /// The features.json format this code writes and reads.
    public static let formatVersion = 1
    /// Local id of out-of-vocabulary values within every field.
    public static let oovIndex = 0
    /// Local id of missing values within every field.
    public static let missingIndex = 1
    /// Local id of the first vocabulary value within every field.
    public static let firstVocabularyIndex = 2

    /// The minimum training count a value needed to get its own id.
    public private(set) var minCount: Int
    /// Number of rows the map was fitted on (informational; not part of the fingerprint).
    public private(set) var rowCount: Int
    /// Per categorical field, the vocabulary values in local-id order (value `i` has local id `i + 2`).
    public private(set) var vocabularies: [[String]]
    /// Per dense field, the divisor applied after ``DenseTransform`` (>= 1).
    public private(set) var denseScales: [Double]
    /// The model input for a missing integer value. Present values land in [-1, 1] after scaling, so the
    /// default -2 lets a model tell "missing" from a present 0; maps written before this setting existed
    /// (no `denseMissingValue` in features.json) use 0, as their models were trained with.
    public private(set) var denseMissingValue: Double
    /// What ``fit(_:minCount:)`` records for missing integers (chosen on validation AUC, docs/TRAINING.md).
    public static let defaultDenseMissingValue = -2.0
    /// Name of the model's int64 [B, 26] input of global ids.
    public var sparseInputName = "sparse_ids"
    /// Name of the model's float32 [B, 13] input of transformed dense values.
    public var denseInputName = "dense"
    /// Name of the model's float32 [B, 1] output of click probabilities.
    public var outputName = "probability"
    /// The fingerprint recorded in the file this map was decoded from, checked at load.
    var recordedFingerprint: String?

    /// Creates a map from explicit vocabularies and scales, validating them against the Criteo schema.
    public init(vocabularies: [[String]], denseScales: [Double], minCount: Int, rowCount: Int = 0,
                denseMissingValue: Double = 0) throws(FeatureMapError) {
        self.init(uncheckedVocabularies: vocabularies, denseScales: denseScales, minCount: minCount, rowCount: rowCount,
                  denseMissingValue: denseMissingValue)
        try validate(path: nil)
    }

    init(uncheckedVocabularies: [[String]], denseScales: [Double], minCount: Int, rowCount: Int, denseMissingValue: Double) {
        self.vocabularies = uncheckedVocabularies
        self.denseScales = denseScales
        self.denseMissingValue = denseMissingValue
        self.minCount = minCount
        self.rowCount = rowCount
    }

    /// Fits vocabularies (values seen at least `minCount` times) and dense scales on training rows.
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

    /// Start of each categorical field's block in the shared embedding table (26 entries).
    public var fieldOffsets: [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(vocabularies.count)
        var next = 0
        for vocabulary in vocabularies {
            offsets.append(next)
            next += vocabulary.count + Self.firstVocabularyIndex
        }
        return offsets
    }

    /// Size of each categorical field's block, including its OOV and missing ids (26 entries).
    public var fieldVocabularySizes: [Int] {
        vocabularies.map { $0.count + Self.firstVocabularyIndex }
    }

    /// Rows of the shared embedding table: the sum of ``fieldVocabularySizes``.
    public var totalVocabularySize: Int {
        vocabularies.reduce(0) { $0 + $1.count + Self.firstVocabularyIndex }
    }

    /// Checks counts, names, scales and vocabularies; `path` only labels the error.
    func validate(path: String?) throws(FeatureMapError) {
        guard vocabularies.count == CriteoSchema.categoricalCount else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "expected \(CriteoSchema.categoricalCount) categorical fields, found \(vocabularies.count)")
        }
        guard denseScales.count == CriteoSchema.denseCount else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "expected \(CriteoSchema.denseCount) dense fields, found \(denseScales.count)")
        }
        for (field, scale) in denseScales.enumerated() where !(scale.isFinite && scale >= 1) {
            throw FeatureMapError(.invalidScale, path: path,
                                  detail: "\(CriteoSchema.denseNames[field]) has scale \(scale); scales must be finite and >= 1")
        }
        guard minCount >= 1 else {
            throw FeatureMapError(.invalidVocabulary, path: path, detail: "minCount is \(minCount); it must be >= 1")
        }
        for (field, vocabulary) in vocabularies.enumerated() {
            if let empty = vocabulary.firstIndex(of: "") {
                throw FeatureMapError(.invalidVocabulary, path: path,
                                      detail: "\(CriteoSchema.categoricalNames[field]) entry \(empty) is empty; empty means missing and has id 1")
            }
        }
        for name in [sparseInputName, denseInputName, outputName] where name.isEmpty {
            throw FeatureMapError(.schemaMismatch, path: path, detail: "tensor names must not be empty")
        }
        guard Set([sparseInputName, denseInputName, outputName]).count == 3 else {
            throw FeatureMapError(.schemaMismatch, path: path,
                                  detail: "tensor names must differ: \(sparseInputName), \(denseInputName), \(outputName)")
        }
        let index = VocabularyIndex(vocabularies: vocabularies, offsets: fieldOffsets, totalSize: totalVocabularySize)
        if let duplicate = index.firstDuplicate {
            throw FeatureMapError(.invalidVocabulary, path: path,
                                  detail: "\(CriteoSchema.categoricalNames[duplicate.field]) lists \"\(duplicate.value)\" more than once")
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
