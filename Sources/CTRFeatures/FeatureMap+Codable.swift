/// The features.json layout. Version 2: scalars, the schema (fields in declaration order), the model
/// signature, then the fitted numeric transforms, vocabulary blocks and sequence lengths. Version 1
/// (Criteo only, written before schemas): scalars, tensor names, dense fields, categorical fields.
///
/// Offsets, sizes, the id scheme, the signature and the transforms in words are written for people and
/// other tools; on decoding they are checked against what the schema and vocabularies imply.
extension FeatureMap: Codable {
    private enum Key: String, CodingKey {
        case formatVersion, fingerprint, minCount, rowCount, tensors, idScheme, denseTransform, denseMissingValue
        case totalVocabularySize, denseFields, categoricalFields
        case schema, signature, numericFields, sequenceFields, dataLayout, encoding
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

    /// One vocabulary block (version 2: categorical fields, then unshared sequence fields).
    struct CategoricalField: Codable {
        var name: String
        var kind = "categorical"
        var offset: Int
        var size: Int
        var oovIndex = FeatureMap.oovIndex
        /// Ours: the local id of missing values (1); absent in FuxiCTR's encoding, where missing values take `fill_na`.
        var missingIndex: Int? = FeatureMap.missingIndex
        /// FuxiCTR's encoding: `__PAD__`'s index (0); absent in ours.
        var paddingIndex: Int?
        var vocabulary: [String]
    }

    /// A block's entry as this map's encoding writes it.
    func blockEntry(_ block: Int, name: String, offset: Int, vocabulary: [String]) -> CategoricalField {
        let kind = block < schema.categoricalFields.count ? "categorical" : "sequence"
        let size = vocabulary.count + Self.firstVocabularyIndex
        if encoding == .fuxictr {
            return CategoricalField(name: name, kind: kind, offset: 0, size: size, oovIndex: vocabulary.count + 1,
                                    missingIndex: nil, paddingIndex: 0, vocabulary: vocabulary)
        }
        return CategoricalField(name: name, kind: kind, offset: offset, size: size, vocabulary: vocabulary)
    }

    struct SchemaEntry: Codable {
        var datasetId: String
        var label: String
        var minCount: Int
        var inactiveColumns: [String]
        var fields: [FieldEntry]
    }

    /// One declared field, non-default settings only.
    struct FieldEntry: Codable {
        var name: String
        var kind: FeatureSchema.Kind
        var dtype: FeatureSchema.ValueType
        var fillNA: String?
        var minCount: Int?
        var normalizer: FeatureSchema.Normalizer?
        var preprocess: FeatureSchema.Preprocess?
        var splitter: String?
        var maxLen: Int?
        var padding: FeatureSchema.Padding?
        var sharedWith: String?
        var source: String?

        init(_ field: FeatureSchema.Field) {
            name = field.name
            kind = field.kind
            dtype = field.valueType
            fillNA = field.fillNA
            minCount = field.minCount
            normalizer = field.normalizer == .none ? nil : field.normalizer
            preprocess = field.preprocess == .none ? nil : field.preprocess
            splitter = field.sequence?.splitter
            maxLen = field.sequence?.maxLength
            padding = field.sequence?.padding
            sharedWith = field.sequence?.sharedWith
            source = field.source
        }

        /// The entry as the fingerprint hashes it: `source` changes no id, so two maps differing only there agree.
        var encodingEntry: FieldEntry {
            var entry = self
            entry.source = nil
            return entry
        }

        var field: FeatureSchema.Field {
            FeatureSchema.Field(
                name: name, kind: kind, valueType: dtype, fillNA: fillNA, minCount: minCount,
                normalizer: normalizer ?? .none, preprocess: preprocess ?? .none,
                sequence: kind == .sequence
                    ? FeatureSchema.Sequence(splitter: splitter ?? "^", maxLength: maxLen ?? 0, padding: padding ?? .pre,
                                             sharedWith: sharedWith)
                    : nil,
                source: source)
        }
    }

    struct SignatureEntry: Codable, Equatable {
        struct TensorEntry: Codable, Equatable {
            var name: String
            var dtype: String
            var shape: [Int]
            var role: String
            var fields: [String]
        }
        var inputs: [TensorEntry]
        var outputs: [TensorEntry]

        init(_ signature: ModelSignature) {
            func entry(_ t: ModelSignature.Tensor) -> TensorEntry {
                TensorEntry(name: t.name, dtype: t.elementType.rawValue, shape: t.shape, role: t.role.rawValue, fields: t.fields)
            }
            inputs = signature.inputs.map(entry)
            outputs = signature.outputs.map(entry)
        }
    }

    struct NumericEntry: Codable {
        var name: String
        var shift: Double
        var scale: Double
    }

    struct SequenceEntry: Codable {
        var name: String
        var length: Int
        var vocabulary: String
        var paddingId: Int64
    }

    /// The id scheme in words, written into features.json.
    static let idSchemeSummary =
        "global id = block offset + local id; local 0 = out-of-vocabulary, 1 = missing (and sequence padding), 2... = vocabulary in listed order (descending training count, then value)"

    /// FuxiCTR's id scheme in words (format version 3).
    static let fuxictrIDSchemeSummary =
        "FuxiCTR per-feature index: 0 = __PAD__, 1... = vocabulary in listed order, vocabulary size + 1 = __OOV__ (unseen values); a missing value takes its fill_na first; a sequence token equal to fill_na (or empty) is __PAD__"

    /// FuxiCTR's numeric transform in words (format version 3).
    static let fuxictrNumericSummary =
        "FuxiCTR: x = fill_na when missing, then none -> x; StandardScaler -> (x - shift) / scale (mean_, scale_); MinMaxScaler -> x * scale + shift (scale_, min_), in float64 as scikit-learn does, then float32"

    /// The version-1 wording, kept so old files re-encode to their own bytes.
    static let version1IDSchemeSummary =
        "global id = field offset + local id; local 0 = out-of-vocabulary, 1 = missing, 2... = vocabulary in listed order (descending training count, then value)"

    /// Encodes the map, including its fingerprint, in features.json layout (the same content as ``jsonBytes()``).
    public func encode(to encoder: any Encoder) throws {
        precondition(hasVocabularyValues, "features.json needs the vocabulary values this map released")
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(version, forKey: .formatVersion)
        if encoding == .fuxictr { try c.encode(encoding.rawValue, forKey: .encoding) }
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(minCount, forKey: .minCount)
        try c.encode(rowCount, forKey: .rowCount)
        try c.encode(idSchemeText, forKey: .idScheme)
        try c.encode(encoding == .fuxictr ? Self.fuxictrNumericSummary : DenseTransform.summary, forKey: .denseTransform)
        try c.encode(denseMissingValue, forKey: .denseMissingValue)
        try c.encode(totalVocabularySize, forKey: .totalVocabularySize)
        let offsets = fieldOffsets
        let names = blockNames
        if version == 1 {
            try c.encode(Tensors(sparseInput: sparseInputName, denseInput: denseInputName, output: outputName), forKey: .tensors)
            try c.encode(zip(CriteoSchema.denseNames, denseScales).map { DenseField(name: $0, scale: $1) },
                         forKey: .denseFields)
        } else {
            try c.encode(schemaEntry, forKey: .schema)
            try c.encode(dataLayout, forKey: .dataLayout)
            try c.encode(SignatureEntry(signature), forKey: .signature)
            try c.encode(numericEntries, forKey: .numericFields)
            try c.encode(sequenceEntries, forKey: .sequenceFields)
        }
        let blocks = vocabularies.enumerated().map { block, vocabulary in
            blockEntry(block, name: names[block], offset: offsets[block], vocabulary: vocabulary)
        }
        try c.encode(blocks, forKey: .categoricalFields)
    }

    /// The id scheme in words for this map's version and encoding.
    var idSchemeText: String {
        switch (version, encoding) {
        case (1, _): Self.version1IDSchemeSummary
        case (_, .fuxictr): Self.fuxictrIDSchemeSummary
        default: Self.idSchemeSummary
        }
    }

    var schemaEntry: SchemaEntry {
        SchemaEntry(datasetId: schema.datasetID, label: schema.label, minCount: schema.minCount,
                    inactiveColumns: schema.inactiveColumns, fields: schema.fields.map(FieldEntry.init))
    }

    var numericEntries: [NumericEntry] {
        zip(schema.numericFields, zip(numericShifts, denseScales)).map { NumericEntry(name: $0.name, shift: $1.0, scale: $1.1) }
    }

    var sequenceEntries: [SequenceEntry] {
        let names = blockNames, padding = sequencePaddingIDs
        return zip(schema.sequenceFields.indices, zip(schema.sequenceFields, zip(sequenceBlocks, sequenceLengths))).map {
            SequenceEntry(name: $1.0.name, length: $1.1.1, vocabulary: names[$1.1.0], paddingId: padding[$0])
        }
    }

    /// Decodes features.json, rejecting newer formats and inconsistent names, offsets or sizes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let version = try c.decode(Int.self, forKey: .formatVersion)
        guard version >= 1 && version <= Self.formatVersion else {
            throw FeatureMapError(.unsupportedVersion, path: nil,
                                  detail: "formatVersion \(version); this build reads versions 1 to \(Self.formatVersion)")
        }
        let categorical = try c.decode([CategoricalField].self, forKey: .categoricalFields)
        let minCount = try c.decode(Int.self, forKey: .minCount)
        let rowCount = try c.decodeIfPresent(Int.self, forKey: .rowCount) ?? 0
        let missing = try c.decodeIfPresent(Double.self, forKey: .denseMissingValue) ?? 0
        if version == 1 {
            let tensors = try c.decode(Tensors.self, forKey: .tensors)
            let dense = try c.decode([DenseField].self, forKey: .denseFields)
            guard dense.map(\.name) == CriteoSchema.denseNames else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "denseFields are \(dense.map(\.name)); expected \(CriteoSchema.denseNames.first!)...\(CriteoSchema.denseNames.last!) in order")
            }
            guard categorical.map(\.name) == CriteoSchema.categoricalNames else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "categoricalFields are \(categorical.map(\.name)); expected \(CriteoSchema.categoricalNames.first!)...\(CriteoSchema.categoricalNames.last!) in order")
            }
            self.init(uncheckedSchema: .criteo, vocabularies: categorical.map(\.vocabulary), denseScales: dense.map(\.scale),
                      numericShifts: Array(repeating: 0, count: dense.count), sequenceLengths: [],
                      minCount: minCount, rowCount: rowCount, denseMissingValue: missing, version: 1)
            sparseInputName = tensors.sparseInput
            denseInputName = tensors.denseInput
            outputName = tensors.output
        } else {
            let entry = try c.decode(SchemaEntry.self, forKey: .schema)
            var schema = FeatureSchema(datasetID: entry.datasetId, label: entry.label, fields: entry.fields.map(\.field),
                                       inactiveColumns: entry.inactiveColumns)
            schema.minCount = entry.minCount
            let numeric = try c.decode([NumericEntry].self, forKey: .numericFields)
            let sequences = try c.decode([SequenceEntry].self, forKey: .sequenceFields)
            guard numeric.map(\.name) == schema.numericFields.map(\.name) else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "numericFields are \(numeric.map(\.name)); the schema declares \(schema.numericFields.map(\.name))")
            }
            guard sequences.map(\.name) == schema.sequenceFields.map(\.name) else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "sequenceFields are \(sequences.map(\.name)); the schema declares \(schema.sequenceFields.map(\.name))")
            }
            if version == Self.fuxictrFormatVersion {
                let encoding = try c.decodeIfPresent(String.self, forKey: .encoding)
                guard encoding == Encoding.fuxictr.rawValue else {
                    throw FeatureMapError(.schemaMismatch, path: nil,
                                          detail: "formatVersion 3 needs \"encoding\": \"fuxictr\", found \(encoding.map { "\"\($0)\"" } ?? "none")")
                }
            }
            self.init(uncheckedSchema: schema, vocabularies: categorical.map(\.vocabulary), denseScales: numeric.map(\.scale),
                      numericShifts: numeric.map(\.shift), sequenceLengths: sequences.map(\.length),
                      minCount: minCount, rowCount: rowCount, denseMissingValue: missing, version: version)
            dataLayout = try c.decodeIfPresent(DataLayout.self, forKey: .dataLayout) ?? DataLayout()
            let signature = try c.decode(SignatureEntry.self, forKey: .signature)
            let byRole = Dictionary(signature.inputs.map { ($0.role, $0.name) }, uniquingKeysWith: { a, _ in a })
            sparseInputName = byRole[ModelSignature.Role.categoricalIDs.rawValue] ?? sparseInputName
            denseInputName = byRole[ModelSignature.Role.numericValues.rawValue] ?? denseInputName
            sequenceInputName = byRole[ModelSignature.Role.sequenceIDs.rawValue] ?? sequenceInputName
            outputName = signature.outputs.first?.name ?? outputName
            guard signature == SignatureEntry(self.signature) else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "the signature does not match what the schema and vocabularies imply (\(SignatureEntry(self.signature).inputs.map { "\($0.name) \($0.dtype) \($0.shape)" }.joined(separator: ", ")))")
            }
            let names = blockNames
            guard categorical.map(\.name) == names else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "categoricalFields are \(categorical.map(\.name)); the schema implies \(names)")
            }
            for (index, sequence) in sequences.enumerated() where sequence.vocabulary != names[sequenceBlocks[index]] {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "\(sequence.name) uses vocabulary \(sequence.vocabulary); the schema implies \(names[sequenceBlocks[index]])")
            }
        }
        recordedFingerprint = try c.decodeIfPresent(String.self, forKey: .fingerprint)
        let offsets = fieldOffsets
        for (field, entry) in categorical.enumerated() {
            let expected = blockEntry(field, name: entry.name, offset: offsets[field], vocabulary: entry.vocabulary)
            guard entry.oovIndex == expected.oovIndex, entry.missingIndex == expected.missingIndex,
                  entry.paddingIndex == expected.paddingIndex else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "\(entry.name) has oovIndex \(entry.oovIndex), missingIndex \(entry.missingIndex.map(String.init) ?? "none") and paddingIndex \(entry.paddingIndex.map(String.init) ?? "none"); the \(encoding.rawValue) encoding implies \(expected.oovIndex), \(expected.missingIndex.map(String.init) ?? "none") and \(expected.paddingIndex.map(String.init) ?? "none")")
            }
            guard entry.offset == expected.offset, entry.size == expected.size else {
                throw FeatureMapError(.schemaMismatch, path: nil,
                                      detail: "\(entry.name) has offset \(entry.offset) and size \(entry.size); its vocabulary implies \(expected.offset) and \(expected.size)")
            }
        }
        if let total = try c.decodeIfPresent(Int.self, forKey: .totalVocabularySize), total != totalVocabularySize {
            throw FeatureMapError(.schemaMismatch, path: nil,
                                  detail: "totalVocabularySize is \(total); the vocabularies imply \(totalVocabularySize)")
        }
    }
}
