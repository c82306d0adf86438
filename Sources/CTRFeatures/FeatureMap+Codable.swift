/// The features.json layout: scalars first, then dense fields, then categorical fields with their vocabularies.
///
/// Offsets, sizes, the id scheme and the dense transform are written for people and other tools;
/// on decoding they are checked against what the vocabularies imply.
extension FeatureMap: Codable {
    private enum Key: String, CodingKey {
        case formatVersion, fingerprint, minCount, rowCount, tensors, idScheme, denseTransform, denseMissingValue
        case totalVocabularySize, denseFields, categoricalFields
    }

    private struct Tensors: Codable {
        var sparseInput: String
        var denseInput: String
        var output: String
    }

    private struct DenseField: Codable {
        var name: String
        var kind = "dense"
        var scale: Double
    }

    private struct CategoricalField: Codable {
        var name: String
        var kind = "categorical"
        var offset: Int
        var size: Int
        var oovIndex = FeatureMap.oovIndex
        var missingIndex = FeatureMap.missingIndex
        var vocabulary: [String]
    }

    /// The id scheme in words, written into features.json.
    static let idSchemeSummary =
        "global id = field offset + local id; local 0 = out-of-vocabulary, 1 = missing, 2... = vocabulary in listed order (descending training count, then value)"

    /// Encodes the map, including its fingerprint, in features.json layout.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(Self.formatVersion, forKey: .formatVersion)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(minCount, forKey: .minCount)
        try c.encode(rowCount, forKey: .rowCount)
        try c.encode(Tensors(sparseInput: sparseInputName, denseInput: denseInputName, output: outputName), forKey: .tensors)
        try c.encode(Self.idSchemeSummary, forKey: .idScheme)
        try c.encode(DenseTransform.summary, forKey: .denseTransform)
        try c.encode(denseMissingValue, forKey: .denseMissingValue)
        try c.encode(totalVocabularySize, forKey: .totalVocabularySize)
        try c.encode(zip(CriteoSchema.denseNames, denseScales).map { DenseField(name: $0, scale: $1) }, forKey: .denseFields)
        let offsets = fieldOffsets
        let fields = vocabularies.enumerated().map { field, vocabulary in
            CategoricalField(name: CriteoSchema.categoricalNames[field], offset: offsets[field],
                             size: vocabulary.count + Self.firstVocabularyIndex, vocabulary: vocabulary)
        }
        try c.encode(fields, forKey: .categoricalFields)
    }

    /// Decodes features.json, rejecting newer formats and inconsistent names, offsets or sizes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard version >= 1 && version <= Self.formatVersion else {
            throw FeatureMapError(.unsupportedVersion, path: nil,
                                  detail: "formatVersion \(version); this build reads version \(Self.formatVersion)")
        }
        let tensors = try c.decode(Tensors.self, forKey: .tensors)
        let dense = try c.decode([DenseField].self, forKey: .denseFields)
        let categorical = try c.decode([CategoricalField].self, forKey: .categoricalFields)
        guard dense.map(\.name) == CriteoSchema.denseNames else {
            throw FeatureMapError(.schemaMismatch, path: nil,
                                  detail: "denseFields are \(dense.map(\.name)); expected \(CriteoSchema.denseNames.first!)...\(CriteoSchema.denseNames.last!) in order")
        }
        guard categorical.map(\.name) == CriteoSchema.categoricalNames else {
            throw FeatureMapError(.schemaMismatch, path: nil,
                                  detail: "categoricalFields are \(categorical.map(\.name)); expected \(CriteoSchema.categoricalNames.first!)...\(CriteoSchema.categoricalNames.last!) in order")
        }
        self.init(uncheckedVocabularies: categorical.map(\.vocabulary), denseScales: dense.map(\.scale),
                  minCount: try c.decode(Int.self, forKey: .minCount),
                  rowCount: try c.decodeIfPresent(Int.self, forKey: .rowCount) ?? 0,
                  denseMissingValue: try c.decodeIfPresent(Double.self, forKey: .denseMissingValue) ?? 0)
        sparseInputName = tensors.sparseInput
        denseInputName = tensors.denseInput
        outputName = tensors.output
        recordedFingerprint = try c.decodeIfPresent(String.self, forKey: .fingerprint)
        let offsets = fieldOffsets
        for (field, entry) in categorical.enumerated() {
            guard entry.oovIndex == Self.oovIndex, entry.missingIndex == Self.missingIndex else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "\(entry.name) has oovIndex \(entry.oovIndex) and missingIndex \(entry.missingIndex); expected 0 and 1")
            }
            guard entry.offset == offsets[field], entry.size == entry.vocabulary.count + Self.firstVocabularyIndex else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "\(entry.name) has offset \(entry.offset) and size \(entry.size); its vocabulary implies \(offsets[field]) and \(entry.vocabulary.count + Self.firstVocabularyIndex)")
            }
        }
        if let total = try c.decodeIfPresent(Int.self, forKey: .totalVocabularySize), total != totalVocabularySize {
            throw FeatureMapError(.schemaMismatch, path: nil,
                                  detail: "totalVocabularySize is \(total); the vocabularies imply \(totalVocabularySize)")
        }
    }
}
