/// The declared fields of a dataset: what each column is, in the order the model sees them.
///
/// One value drives every layer: the reader picks columns by ``Field/name``, the feature map fits one
/// vocabulary or numeric transform per field, the models size their inputs from ``categoricalFields``,
/// ``numericFields`` and ``sequenceFields``, and the server decodes requests by the same names. Read
/// from a FuxiCTR-style `dataset_config.yaml` (``DatasetConfig``) or built in code (``criteo``).
///
/// Within each kind, fields keep their declared order; the model inputs list categorical fields, then
/// numeric fields, then sequence fields.
public struct FeatureSchema: Sendable, Equatable, Hashable {
    /// The dataset's id (the config's top-level key).
    public var datasetID: String
    /// The label column's name.
    public var label: String
    /// Active fields in declaration order.
    public var fields: [Field]
    /// Columns declared `active: false`: accepted in requests and data, never used.
    public var inactiveColumns: [String]
    /// The dataset's minimum training count for a token to get its own id (FuxiCTR's `min_categr_count`).
    public var minCount: Int = 1

    /// Creates a schema; ``validate()`` checks it.
    public init(datasetID: String, label: String, fields: [Field], inactiveColumns: [String] = []) {
        self.datasetID = datasetID
        self.label = label
        self.fields = fields
        self.inactiveColumns = inactiveColumns
    }

    /// How a field is embedded.
    public enum Kind: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
        /// One token per row, looked up in the field's vocabulary.
        case categorical
        /// One number per row, fed to the `dense` input after its transform.
        case numeric
        /// A list of tokens per row, padded or truncated to a fixed length and mean-pooled.
        case sequence
    }

    /// The declared type of a column's raw values (FuxiCTR's `dtype`).
    public enum ValueType: String, Sendable, Equatable, Hashable, Codable {
        case string = "str"
        case int
        case float
    }

    /// A numeric field's fitted scaling (FuxiCTR's `normalizer`), applied as scikit-learn does.
    public enum Normalizer: String, Sendable, Equatable, Hashable, Codable {
        case none
        /// `(x - mean) / std`, population std; a constant column keeps scale 1.
        case standardScaler = "StandardScaler"
        /// `(x - min) / (max - min)`; a constant column keeps scale 1.
        case minMaxScaler = "MinMaxScaler"
    }

    /// A value transform before encoding (FuxiCTR's `preprocess`).
    public enum Preprocess: String, Sendable, Equatable, Hashable, Codable {
        case none
        /// Criteo's integer treatment: `v > 2 -> floor(ln(v)^2)`, else `max(v, -1)`, divided by the
        /// field's training maximum (``DenseTransform``); the model may embed it per value (buckets).
        case convertToBucket = "convert_to_bucket"
    }

    /// Which end of a sequence is padded and truncated (FuxiCTR's `padding`).
    public enum Padding: String, Sendable, Equatable, Hashable, Codable {
        /// Keep the last `maxLength` tokens; pad at the front (FuxiCTR's default).
        case pre
        /// Keep the first `maxLength` tokens; pad at the end.
        case post
    }

    /// How a sequence field is split and sized.
    public struct Sequence: Sendable, Equatable, Hashable {
        /// The separator between tokens in a raw value (FuxiCTR's `splitter`, default `^`).
        public var splitter: String
        /// Tokens kept per row; 0 means "the longest sequence seen in training", fixed at fit time.
        public var maxLength: Int
        /// Where padding and truncation happen.
        public var padding: Padding
        /// A categorical field whose vocabulary and embeddings this sequence shares, if any.
        public var sharedWith: String?

        /// Creates sequence settings.
        public init(splitter: String = "^", maxLength: Int = 0, padding: Padding = .pre, sharedWith: String? = nil) {
            self.splitter = splitter
            self.maxLength = maxLength
            self.padding = padding
            self.sharedWith = sharedWith
        }
    }

    /// One declared column used by the model.
    public struct Field: Sendable, Equatable, Hashable {
        /// The column name in data files and requests.
        public var name: String
        /// How the model embeds it.
        public var kind: Kind
        /// The declared raw type.
        public var valueType: ValueType
        /// The text a missing value is replaced with before encoding; nil keeps it missing (its own id,
        /// or the map's missing numeric input).
        public var fillNA: String?
        /// This field's minimum training count for a token to get its own id; nil uses the dataset's.
        public var minCount: Int?
        /// Numeric scaling.
        public var normalizer: Normalizer
        /// Transform before encoding.
        public var preprocess: Preprocess
        /// Sequence settings; set exactly when `kind == .sequence`.
        public var sequence: Sequence?
        /// FuxiCTR's `source` (`user`, `item`, `context`, or empty): which side of a ranking request carries the field.
        /// Training ignores it; the encoding does not depend on it, so it is outside the fingerprint.
        public var source: String?

        /// Whether a ranking request sends this field once, in its context (`source: user` or `source: context`),
        /// rather than with every candidate.
        public var isContext: Bool { source == "user" || source == "context" }

        /// Creates a field.
        public init(name: String, kind: Kind, valueType: ValueType = .string, fillNA: String? = nil,
                    minCount: Int? = nil, normalizer: Normalizer = .none, preprocess: Preprocess = .none,
                    sequence: Sequence? = nil, source: String? = nil) {
            self.name = name
            self.source = source.flatMap { $0.isEmpty ? nil : $0 }
            self.kind = kind
            self.valueType = valueType
            self.fillNA = fillNA
            self.minCount = minCount
            self.normalizer = normalizer
            self.preprocess = preprocess
            self.sequence = kind == .sequence ? (sequence ?? Sequence()) : nil
        }
    }

    /// Categorical fields in model order (columns of the `sparse_ids` input).
    public var categoricalFields: [Field] { fields.filter { $0.kind == .categorical } }
    /// Numeric fields in model order (columns of the `dense` input).
    public var numericFields: [Field] { fields.filter { $0.kind == .numeric } }
    /// Whether `other` declares the same fields with the same settings, ranking sides aside (`source` changes no id).
    public func encodesLike(_ other: FeatureSchema) -> Bool {
        func stripped(_ fields: [Field]) -> [Field] { fields.map { var field = $0; field.source = nil; return field } }
        return stripped(fields) == stripped(other.fields)
    }

    /// Fields a ranking request sends once for all its candidates (``Field/isContext``).
    public var contextFields: [Field] { fields.filter(\.isContext) }
    /// Sequence fields in model order (column spans of the `sequence_ids` input).
    public var sequenceFields: [Field] { fields.filter { $0.kind == .sequence } }

    /// Every column name a row may carry: the label, the active fields and the inactive columns.
    public var knownColumns: Set<String> {
        Set([label] + fields.map(\.name) + inactiveColumns)
    }

    /// Checks names, kinds and settings; the error names the field.
    public func validate() throws(FeatureSchemaError) {
        guard !label.isEmpty else { throw FeatureSchemaError(.invalidField, "the label column has no name") }
        guard !fields.isEmpty else { throw FeatureSchemaError(.invalidField, "no active feature columns") }
        var seen: Set<String> = [label]
        for field in fields {
            guard !field.name.isEmpty else { throw FeatureSchemaError(.invalidField, "a feature column has an empty name") }
            guard seen.insert(field.name).inserted else {
                throw FeatureSchemaError(.invalidField, "\(field.name) is declared twice (or is also the label)")
            }
            switch field.kind {
            case .numeric:
                guard field.valueType != .string else {
                    throw FeatureSchemaError(.invalidField, "\(field.name) is numeric but has dtype str; use int or float")
                }
            case .categorical:
                guard field.normalizer == .none else {
                    throw FeatureSchemaError(.invalidField, "\(field.name): normalizer applies to numeric fields only")
                }
            case .sequence:
                guard let sequence = field.sequence else {
                    throw FeatureSchemaError(.invalidField, "\(field.name) is a sequence without sequence settings")
                }
                guard !sequence.splitter.isEmpty else {
                    throw FeatureSchemaError(.invalidField, "\(field.name): splitter must not be empty")
                }
                guard sequence.maxLength >= 0 else {
                    throw FeatureSchemaError(.invalidField, "\(field.name): max_len must be >= 0")
                }
                guard field.normalizer == .none, field.preprocess == .none else {
                    throw FeatureSchemaError(.invalidField, "\(field.name): normalizer and preprocess do not apply to sequences")
                }
            }
            if field.kind != .numeric, field.preprocess == .convertToBucket {
                throw FeatureSchemaError(.invalidField, "\(field.name): convert_to_bucket applies to numeric fields")
            }
            if field.preprocess == .convertToBucket, field.normalizer != .none {
                throw FeatureSchemaError(.invalidField, "\(field.name): convert_to_bucket already scales; drop the normalizer")
            }
            if let minCount = field.minCount, minCount < 1 {
                throw FeatureSchemaError(.invalidField, "\(field.name): min_categr_count must be >= 1")
            }
        }
        for name in inactiveColumns where !seen.insert(name).inserted {
            throw FeatureSchemaError(.invalidField, "\(name) is declared twice")
        }
        let categorical = Set(categoricalFields.map(\.name))
        for field in sequenceFields {
            if let shared = field.sequence?.sharedWith, !categorical.contains(shared) {
                throw FeatureSchemaError(
                    .invalidField, "\(field.name): share_embedding names \(shared), which is not an active categorical field")
            }
        }
    }

    /// The field called `name`, if active.
    public func field(named name: String) -> Field? {
        fields.first { $0.name == name }
    }
}

extension FeatureSchema {
    /// The fields that own a vocabulary block, in block order: the categorical fields, then the sequence
    /// fields that do not share a categorical field's vocabulary.
    public var vocabularyBlockFields: [Field] {
        categoricalFields + sequenceFields.filter { $0.sequence?.sharedWith == nil }
    }

    /// Per sequence field, the vocabulary block its tokens are counted and looked up in.
    public var sequenceBlocks: [Int] {
        let categorical = categoricalFields.map(\.name)
        var next = categorical.count
        return sequenceFields.map { field in
            if let shared = field.sequence?.sharedWith, let block = categorical.firstIndex(of: shared) { return block }
            defer { next += 1 }
            return next
        }
    }
}

extension FeatureSchema.Field {
    /// The token a missing categorical value becomes before fitting and encoding, or nil to keep it missing.
    public var tokenFill: String? {
        fillNA.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The number a missing numeric value becomes before fitting and encoding: its `fill_na`, else 0
    /// (FuxiCTR's default); nil for `convert_to_bucket` fields without one, which keep the map's missing input.
    public var numericFill: Double? {
        if let text = fillNA, let value = Double(text) { return value }
        return preprocess == .convertToBucket ? nil : 0
    }
}
