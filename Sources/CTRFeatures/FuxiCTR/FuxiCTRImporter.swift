import Foundation

/// Builds a ``FeatureMap`` in FuxiCTR's encoding from what FuxiCTR's `FeatureProcessor.fit` wrote.
///
/// Every file is cross-checked against the others, because a mismatch would serve wrong numbers: the
/// dataset config's active features must be `feature_map.json`'s features in order with the same types;
/// vocabularies come only from `feature_vocab.json` (never rebuilt: FuxiCTR releases order ties
/// differently) and must be FuxiCTR's layout (`__PAD__` 0, tokens 1...N, `__OOV__` N+1, N+2 =
/// `vocab_size`); splitter, `max_len`, padding side and `fill_na` come from the pickled tokenizers
/// (FuxiCTR's processor pads sequences `post` unless told otherwise, unlike its tokenizer's default);
/// normalizer constants from the pickled scikit-learn scalers. Errors name the file and the key.
public struct FuxiCTRImporter: Sendable {
    /// The dataset config the processor was built from, with the chosen dataset.
    public var config: DatasetConfig
    /// `feature_map.json`'s path and bytes.
    public var featureMapPath: String
    public var featureMapJSON: Data
    /// `feature_vocab.json`'s path and bytes.
    public var vocabularyPath: String
    public var vocabularyJSON: Data
    /// `feature_processor.pkl`'s path and its contents as read by the restricted unpickler.
    public var processorPath: String
    public var processor: FuxiCTRProcessorSummary

    /// Collects the inputs; ``makeFeatureMap(outputName:)`` checks and combines them.
    public init(config: DatasetConfig, featureMapPath: String, featureMapJSON: Data, vocabularyPath: String, vocabularyJSON: Data,
                processorPath: String, processor: FuxiCTRProcessorSummary) {
        self.config = config
        self.featureMapPath = featureMapPath
        self.featureMapJSON = featureMapJSON
        self.vocabularyPath = vocabularyPath
        self.vocabularyJSON = vocabularyJSON
        self.processorPath = processorPath
        self.processor = processor
    }

    /// The map whose encoder reproduces FuxiCTR's `FeatureProcessor.transform`; `outputName` is the model's output.
    public func makeFeatureMap(outputName: String) throws(FeatureMapError) -> FeatureMap {
        let features = try readFeatureMap()
        let vocabulary = try readVocabulary()
        var schema = config.schema
        guard features.map(\.name) == schema.fields.map(\.name) else {
            throw fail(featureMapPath, "features lists \(features.map(\.name)); \(config.path)'s active feature_cols (dataset \(schema.datasetID)) are \(schema.fields.map(\.name))")
        }
        if let id = processor.datasetID, id != schema.datasetID {
            throw fail(processorPath, "feature_map.dataset_id is \(id); the dataset config's is \(schema.datasetID)")
        }
        var vocabularies: [String: [String]] = [:]
        var shifts: [Double] = [], scales: [Double] = [], lengths: [Int] = []
        for (index, spec) in features.enumerated() {
            var field = schema.fields[index]
            let key = "features[\(index)].\(spec.name)"
            guard spec.type == field.kind.rawValue else {
                throw fail(featureMapPath, "\(key).type is \(spec.type); \(config.path) declares \(field.name) \(field.kind.rawValue)")
            }
            switch field.kind {
            case .numeric:
                let scaler = processor.normalizers[field.name]
                switch (field.normalizer, scaler?.className) {
                case (.none, nil):
                    shifts.append(0)
                    scales.append(1)
                case (.standardScaler, "StandardScaler"):
                    shifts.append(scaler?.mean ?? 0)
                    scales.append(scaler!.scale)
                case (.minMaxScaler, "MinMaxScaler"):
                    shifts.append(scaler?.min ?? 0)
                    scales.append(scaler!.scale)
                default:
                    throw fail(processorPath, "processor_dict[\(field.name)::normalizer] is \(scaler?.className ?? "absent"); \(config.path) declares normalizer \(field.normalizer.rawValue)")
                }
            case .categorical, .sequence:
                guard let tokenizer = processor.tokenizers[field.name] else {
                    throw fail(processorPath, "processor_dict has no \(field.name)::tokenizer")
                }
                guard tokenizer.remap else {
                    throw fail(processorPath, "\(field.name)::tokenizer has remap=False (raw integer ids); the importer supports remapped vocabularies only")
                }
                guard let tokens = vocabulary[field.name] else {
                    throw fail(vocabularyPath, "has no vocabulary for \(field.name)")
                }
                guard spec.vocabSize == tokens.count + 2, tokenizer.vocabularySize == tokens.count + 2,
                      tokenizer.oovIndex == tokens.count + 1, tokenizer.paddingIndex == 0, spec.paddingIndex ?? 0 == 0 else {
                    throw fail(featureMapPath, "\(key).vocab_size is \(spec.vocabSize.map(String.init) ?? "absent") and \(field.name)::tokenizer has vocab_size \(tokenizer.vocabularySize), __OOV__ \(tokenizer.oovIndex.map(String.init) ?? "none"), __PAD__ \(tokenizer.paddingIndex.map(String.init) ?? "none"); \(vocabularyPath) lists \(tokens.count) tokens, implying \(tokens.count + 2), \(tokens.count + 1) and 0")
                }
                field.fillNA = tokenizer.naValue.isEmpty ? nil : tokenizer.naValue
                if field.kind == .sequence {
                    guard let splitter = tokenizer.splitter, !splitter.isEmpty else {
                        throw fail(processorPath, "\(field.name)::tokenizer has no splitter")
                    }
                    guard let padding = FeatureSchema.Padding(rawValue: tokenizer.padding) else {
                        throw fail(processorPath, "\(field.name)::tokenizer.padding is \(tokenizer.padding); expected pre or post")
                    }
                    guard tokenizer.maxLength >= 1, spec.maxLength == nil || spec.maxLength == tokenizer.maxLength else {
                        throw fail(featureMapPath, "\(key).max_len is \(spec.maxLength.map(String.init) ?? "absent"); \(field.name)::tokenizer.max_len is \(tokenizer.maxLength)")
                    }
                    let shared = field.sequence?.sharedWith
                    guard spec.shareEmbedding == shared else {
                        throw fail(featureMapPath, "\(key).share_embedding is \(spec.shareEmbedding ?? "absent"); \(config.path) says \(shared ?? "absent")")
                    }
                    if let shared, vocabulary[shared] != tokens {
                        throw fail(vocabularyPath, "\(field.name) shares \(shared)'s embedding but their vocabularies differ")
                    }
                    field.sequence = FeatureSchema.Sequence(splitter: splitter, maxLength: tokenizer.maxLength, padding: padding,
                                                            sharedWith: shared)
                    lengths.append(tokenizer.maxLength)
                } else if spec.shareEmbedding != nil {
                    throw fail(featureMapPath, "\(key).share_embedding: categorical fields sharing an embedding are not supported")
                }
                vocabularies[field.name] = tokens
            }
            schema.fields[index] = field
        }
        let blocks = schema.vocabularyBlockFields.map { vocabularies[$0.name] ?? [] }
        do {
            return try FeatureMap(fuxictrSchema: schema, vocabularies: blocks, numericShifts: shifts, numericScales: scales,
                                  sequenceLengths: lengths, outputName: outputName)
        } catch {
            throw FeatureMapError(error.code == .invalidVocabulary ? .invalidImport : error.code, path: vocabularyPath, detail: error.detail)
        }
    }

    /// One entry of `feature_map.json`'s `features`.
    struct FeatureSpec {
        var name: String
        var type: String
        var vocabSize: Int?
        var maxLength: Int?
        var paddingIndex: Int?
        var shareEmbedding: String?
    }

    private func readFeatureMap() throws(FeatureMapError) -> [FeatureSpec] {
        guard let root = try? JSONSerialization.jsonObject(with: featureMapJSON) as? [String: Any] else {
            throw fail(featureMapPath, "is not a JSON object")
        }
        if let id = root["dataset_id"] as? String, id != config.schema.datasetID {
            throw fail(featureMapPath, "dataset_id is \(id); \(config.path) describes \(config.schema.datasetID)")
        }
        guard let list = root["features"] as? [Any] else { throw fail(featureMapPath, "has no features list") }
        var specs: [FeatureSpec] = []
        for (index, item) in list.enumerated() {
            guard let entry = item as? [String: Any], entry.count == 1, let (name, value) = entry.first,
                  let spec = value as? [String: Any] else {
                throw fail(featureMapPath, "features[\(index)] is not a one-key object {name: {...}}")
            }
            guard let type = spec["type"] as? String else { throw fail(featureMapPath, "features[\(index)].\(name).type is missing") }
            guard ["categorical", "numeric", "sequence"].contains(type) else {
                throw fail(featureMapPath, "features[\(index)].\(name).type is \(type); the importer supports categorical, numeric and sequence")
            }
            for unsupported in ["pretrained_emb", "category_processor"] where spec[unsupported] != nil {
                throw fail(featureMapPath, "features[\(index)].\(name).\(unsupported) is not supported by the importer")
            }
            specs.append(FeatureSpec(name: name, type: type, vocabSize: spec["vocab_size"] as? Int, maxLength: spec["max_len"] as? Int,
                                     paddingIndex: spec["padding_idx"] as? Int, shareEmbedding: spec["share_embedding"] as? String))
        }
        return specs
    }

    /// Per feature, its tokens in index order (index 1 first), after checking FuxiCTR's layout.
    private func readVocabulary() throws(FeatureMapError) -> [String: [String]] {
        guard let root = try? JSONSerialization.jsonObject(with: vocabularyJSON) as? [String: Any] else {
            throw fail(vocabularyPath, "is not a JSON object of {feature: {token: index}}")
        }
        var result: [String: [String]] = [:]
        for (feature, value) in root {
            guard let entries = value as? [String: Any] else { throw fail(vocabularyPath, "\(feature) is not an object of {token: index}") }
            var tokens = [String?](repeating: nil, count: entries.count)
            for (token, raw) in entries {
                guard let number = raw as? NSNumber, let index = Int(exactly: number.doubleValue) else {
                    throw fail(vocabularyPath, "\(feature).\(token) is not an integer index")
                }
                guard index >= 0, index < entries.count, tokens[index] == nil else {
                    throw fail(vocabularyPath, "\(feature).\(token) has index \(index); indices must be 0...\(entries.count - 1), each once")
                }
                tokens[index] = token
            }
            guard tokens.first == "__PAD__", tokens.last == "__OOV__", entries.count >= 2 else {
                throw fail(vocabularyPath, "\(feature) must map __PAD__ to 0 and __OOV__ to its last index (\(entries.count - 1))")
            }
            result[feature] = tokens.dropFirst().dropLast().map { $0! }
        }
        return result
    }

    private func fail(_ path: String, _ detail: String) -> FeatureMapError {
        FeatureMapError(.invalidImport, path: path, detail: detail)
    }
}
