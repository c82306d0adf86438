import CTRFeatures
/// The input geometry a model is built for: the shared vocabulary, the field counts and how dense fields are embedded.
public struct ModelShape: Codable, Sendable, Equatable {
    /// Rows of the shared embedding table (global ids are below this).
    public var vocabularySize: Int
    /// Id columns per row (Criteo: 26).
    public var sparseFields: Int
    /// Dense columns per row (Criteo: 13).
    public var denseFields: Int
    /// When set, each dense field is embedded per bucket; nil: FuxiCTR's numeric `value × vector` embedding.
    public var denseBuckets: DenseBuckets?
    /// Sequence fields, in the order their columns sit in the `sequences` input; empty for Criteo.
    public var sequenceFields: [SequenceField]
    /// Per dense field, whether a normalizer (StandardScaler, MinMaxScaler) bounds its values: those fields' vectors
    /// start as FuxiCTR's `nn.Linear(1, d)` do (Xavier normal), the others small; empty: none.
    public var scaledDenseFields: [Bool] = []

    /// Creates a shape.
    public init(vocabularySize: Int, sparseFields: Int = 26, denseFields: Int = 13, denseBuckets: DenseBuckets? = nil,
                sequenceFields: [SequenceField] = []) {
        precondition(denseBuckets.map { $0.scales.count == denseFields } ?? true, "one bucket scale per dense field")
        precondition(sequenceFields.allSatisfy { $0.paddingID >= 0 && $0.paddingID < vocabularySize },
                     "a sequence field's padding id must be a row of the shared table")
        self.vocabularySize = vocabularySize
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.denseBuckets = denseBuckets
        self.sequenceFields = sequenceFields
    }

    /// Columns of the `sequences` input: the sequence fields' lengths added up.
    public var totalSequenceLength: Int { sequenceFields.reduce(0) { $0 + $1.length } }

    /// Fields the embedding layer outputs: sparse, dense, then one pooled vector per sequence field.
    public var fieldCount: Int { sparseFields + denseFields + sequenceFields.count }

    private enum CodingKeys: String, CodingKey {
        case vocabularySize, sparseFields, denseFields, denseBuckets, sequenceFields, scaledDenseFields
    }

    /// Decodes a shape; files written before sequence fields existed have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        sparseFields = try c.decode(Int.self, forKey: .sparseFields)
        denseFields = try c.decode(Int.self, forKey: .denseFields)
        denseBuckets = try c.decodeIfPresent(DenseBuckets.self, forKey: .denseBuckets)
        sequenceFields = try c.decodeIfPresent([SequenceField].self, forKey: .sequenceFields) ?? []
        scaledDenseFields = try c.decodeIfPresent([Bool].self, forKey: .scaledDenseFields) ?? []
    }

    /// Encodes a shape; without sequence fields the key is left out, so such files read as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(sparseFields, forKey: .sparseFields)
        try c.encode(denseFields, forKey: .denseFields)
        try c.encodeIfPresent(denseBuckets, forKey: .denseBuckets)
        if !sequenceFields.isEmpty { try c.encode(sequenceFields, forKey: .sequenceFields) }
        if scaledDenseFields.contains(true) { try c.encode(scaledDenseFields, forKey: .scaledDenseFields) }
    }

    /// Whether dense field `field` has a normalizer (see ``scaledDenseFields``).
    func isScaled(denseField field: Int) -> Bool { field < scaledDenseFields.count && scaledDenseFields[field] }
}

extension ModelShape {
    /// The shape of a model over `map`'s fields: Criteo's bucketed integers embedded per bucket with `.buckets`
    /// (any other numeric field is value × vector), sequence fields with the map's lengths and padding ids.
    public init(featureMap map: FeatureMap, denseEncoding: DenseEncoding) {
        let buckets = denseEncoding == .buckets && map.numericFieldsAreBucketed && !map.denseScales.isEmpty
        self.init(vocabularySize: map.totalVocabularySize,
                  sparseFields: map.schema.categoricalFields.count, denseFields: map.schema.numericFields.count,
                  denseBuckets: buckets ? DenseBuckets(scales: map.denseScales) : nil,
                  sequenceFields: zip(map.sequenceLengths, map.sequencePaddingIDs).map { SequenceField(length: $0, paddingID: $1) })
        if !buckets { scaledDenseFields = map.schema.numericFields.map { $0.normalizer != .none } }
    }
}
