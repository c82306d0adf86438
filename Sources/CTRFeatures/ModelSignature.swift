/// A model's ONNX inputs and outputs: names, element types, shapes, and which fields fill each input.
///
/// For bundles trained here it follows from the ``FeatureMap``: `sparse_ids` INT64 [batch, categorical
/// fields] of global ids, `dense` FP32 [batch, numeric fields], `sequence_ids` INT64 [batch, sum of
/// sequence lengths] (each field a span of columns, padded with its padding id), and `probability` FP32
/// [batch, 1]. An input with no fields is left out. Bundles imported from FuxiCTR take one input per
/// feature, named after it, in the schema's field order: categorical INT64 [batch], numeric FP32 [batch],
/// sequence INT64 [batch, max_len], each of FuxiCTR's per-feature indices; `y_pred` FP32 [batch, 1].
/// features.json records it; the server checks the ONNX model against it and the KServe v2 metadata shows it.
public struct ModelSignature: Sendable, Equatable, Hashable {
    /// An ONNX element type as the KServe v2 protocol names it.
    public enum ElementType: String, Sendable, Equatable, Hashable {
        case int64 = "INT64"
        case float32 = "FP32"
    }

    /// What a tensor carries.
    public enum Role: String, Sendable, Equatable, Hashable {
        /// Ids of categorical fields, one column per field (global ids; FuxiCTR's per-feature indices in imported bundles).
        case categoricalIDs = "categorical_ids"
        /// Transformed numbers, one column per numeric field.
        case numericValues = "numeric_values"
        /// Ids of sequence tokens, a span of columns per sequence field (global ids, or FuxiCTR's indices).
        case sequenceIDs = "sequence_ids"
        /// Click probabilities, one per row.
        case probability
    }

    /// One input or output tensor.
    public struct Tensor: Sendable, Equatable, Hashable {
        /// The ONNX name.
        public var name: String
        /// The element type.
        public var elementType: ElementType
        /// Dimensions; -1 is the batch.
        public var shape: [Int]
        /// What it carries.
        public var role: Role
        /// The fields that fill it, in column order (for sequences, each spans its length).
        public var fields: [String]

        /// Creates a tensor description.
        public init(name: String, elementType: ElementType, shape: [Int], role: Role, fields: [String]) {
            self.name = name
            self.elementType = elementType
            self.shape = shape
            self.role = role
            self.fields = fields
        }

        /// Columns per row (the product of the non-batch dimensions).
        public var width: Int { shape.dropFirst().reduce(1, *) }
    }

    /// Inputs in the order the model declares them.
    public var inputs: [Tensor]
    /// Outputs in the order the model declares them.
    public var outputs: [Tensor]

    /// Creates a signature.
    public init(inputs: [Tensor], outputs: [Tensor]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The signature `map` encodes for: three combined inputs for our encoding, one per feature for FuxiCTR's.
    public init(map: FeatureMap) {
        let schema = map.schema
        if map.encoding == .fuxictr {
            let lengths = Dictionary(uniqueKeysWithValues: zip(schema.sequenceFields.map(\.name), map.sequenceLengths))
            let inputs = schema.fields.map { field in
                switch field.kind {
                case .categorical:
                    Tensor(name: field.name, elementType: .int64, shape: [-1], role: .categoricalIDs, fields: [field.name])
                case .numeric:
                    Tensor(name: field.name, elementType: .float32, shape: [-1], role: .numericValues, fields: [field.name])
                case .sequence:
                    Tensor(name: field.name, elementType: .int64, shape: [-1, lengths[field.name] ?? 0], role: .sequenceIDs,
                           fields: [field.name])
                }
            }
            self.init(inputs: inputs, outputs: [
                Tensor(name: map.outputName, elementType: .float32, shape: [-1, 1], role: .probability, fields: []),
            ])
            return
        }
        var inputs: [Tensor] = []
        let categorical = schema.categoricalFields.map(\.name)
        // The Criteo preset keeps both inputs even when empty, as every bundle before schemas did.
        if !categorical.isEmpty {
            inputs.append(Tensor(name: map.sparseInputName, elementType: .int64, shape: [-1, categorical.count],
                                 role: .categoricalIDs, fields: categorical))
        }
        let numeric = schema.numericFields.map(\.name)
        if !numeric.isEmpty {
            inputs.append(Tensor(name: map.denseInputName, elementType: .float32, shape: [-1, numeric.count],
                                 role: .numericValues, fields: numeric))
        }
        let sequences = schema.sequenceFields.map(\.name)
        if !sequences.isEmpty {
            inputs.append(Tensor(name: map.sequenceInputName, elementType: .int64, shape: [-1, map.totalSequenceLength],
                                 role: .sequenceIDs, fields: sequences))
        }
        self.init(inputs: inputs, outputs: [
            Tensor(name: map.outputName, elementType: .float32, shape: [-1, 1], role: .probability, fields: []),
        ])
    }

    /// The input with `role`, if the model has one.
    public func input(_ role: Role) -> Tensor? {
        inputs.first { $0.role == role }
    }
}
