import Foundation
import Yams

/// One dataset of a FuxiCTR-style `dataset_config.yaml`: its schema, its files and how to read them.
///
/// The format is FuxiCTR's (`fuxictr/preprocess/feature_processor.py`): one top-level key per dataset
/// id, holding `data_format`, `train_data`/`valid_data`/`test_data`, `sep`, `min_categr_count`,
/// `label_col` and `feature_cols`. Keys that would change the encoding and that Clickwise does not
/// implement are refused (``FeatureSchemaError/Code-swift.struct/unsupported``); keys that only steer
/// FuxiCTR's own trainer are accepted and ignored; anything else is refused with the nearest known key.
/// One extension: `column_names`, for files without a header row (Criteo's TSV).
public struct DatasetConfig: Sendable, Equatable {
    /// The config file this was read from.
    public var path: String
    /// The declared fields.
    public var schema: FeatureSchema
    /// The data files' separator (one byte: `,` or a tab, ...).
    public var separator: UInt8
    /// The column names of header-less files, in file order; nil: files start with a header row.
    public var columnNames: [String]?
    /// The training file, resolved against the config's folder.
    public var trainData: String?
    /// The validation file, resolved likewise.
    public var validData: String?
    /// The test file, resolved likewise.
    public var testData: String?

    /// Creates a config in code (tests and presets).
    public init(path: String, schema: FeatureSchema, separator: UInt8 = UInt8(ascii: ","), columnNames: [String]? = nil,
                trainData: String? = nil, validData: String? = nil, testData: String? = nil) {
        self.path = path
        self.schema = schema
        self.separator = separator
        self.columnNames = columnNames
        self.trainData = trainData
        self.validData = validData
        self.testData = testData
    }

    /// Whether the files are Criteo's header-less TSV (label, I1...I13, C1...C26), read by the fast reader.
    public var isCriteoLayout: Bool {
        separator == UInt8(ascii: "\t") && columnNames == FeatureSchema.criteoColumns && schema.isCriteo
    }

    static let datasetKeys: Set<String> = [
        "data_format", "train_data", "valid_data", "test_data", "sep", "min_categr_count", "label_col",
        "feature_cols", "column_names",
    ]
    /// Keys that steer only FuxiCTR's own pipeline; reading them changes nothing here.
    static let ignoredDatasetKeys: Set<String> = [
        "data_root", "rebuild_dataset", "pickle_feature_encoder", "use_hdf5", "num_workers", "data_block_size",
        "streaming", "group_id", "infer_data",
    ]
    static let unsupportedDatasetKeys: [String: String] = [
        "item_info": "item-side feature tables are not supported",
        "feature_config": "per-feature config files are not supported; declare feature_cols",
    ]
    static let fieldKeys: Set<String> = [
        "name", "active", "dtype", "type", "fill_na", "na_value", "min_categr_count", "normalizer", "preprocess",
        "splitter", "max_len", "padding", "share_embedding", "feature_encoder", "encoder", "source",
    ]
    static let ignoredFieldKeys: Set<String> = ["embedding_dim", "remap", "emb_output_dim", "feature_owner"]
    static let unsupportedFieldKeys: [String: String] = [
        "category_processor": "custom category processors are not supported",
        "pretrained_emb": "pretrained embeddings are not supported",
        "pretrain_dim": "pretrained embeddings are not supported",
        "pretrain_usage": "pretrained embeddings are not supported",
        "freeze_emb": "pretrained embeddings are not supported",
        "embedding_callback": "embedding callbacks are not supported",
        "vocab_size": "fixed vocabulary sizes are not supported; vocabularies are fitted",
    ]

    /// Reads dataset `datasetID` (or the file's only dataset) from a config file.
    public init(contentsOf url: URL, datasetID: String? = nil) throws(FeatureSchemaError) {
        let path = url.path
        switch ConfigYAML.text(of: url) {
        case .success(let text): try self.init(yaml: text, path: path, datasetID: datasetID)
        case .failure(let failure): throw FeatureSchemaError(.unreadable, failure.reason, path: path)
        }
    }

    /// Reads dataset `datasetID` (or the only dataset) from YAML text; `path` labels errors and anchors relative paths.
    public init(yaml text: String, path: String, datasetID: String? = nil) throws(FeatureSchemaError) {
        let top: Node.Mapping
        switch ConfigYAML.topMapping(text, expected: "dataset ids") {
        case .success(let mapping): top = mapping
        case .failure(let failure): throw FeatureSchemaError(.malformedYAML, failure.reason, path: path)
        }
        let datasets = top.compactMap { $0.key.string }
        let chosen: String
        if let datasetID {
            guard datasets.contains(datasetID) else {
                throw FeatureSchemaError(
                    .unknownDataset, "no dataset \(datasetID) in the file (it has: \(datasets.joined(separator: ", ")))",
                    path: path)
            }
            chosen = datasetID
        } else {
            guard datasets.count == 1 else {
                throw FeatureSchemaError(
                    .unknownDataset, "the file has \(datasets.count) datasets (\(datasets.joined(separator: ", "))); choose one with --dataset-id",
                    path: path)
            }
            chosen = datasets[0]
        }
        let reader = Reader(path: path, dataset: chosen)
        guard let body = top[chosen]?.mapping else {
            throw reader.error(.malformedYAML, key: nil, "the dataset must be a mapping of settings")
        }
        self = try reader.read(body, folder: URL(fileURLWithPath: path).deletingLastPathComponent())
    }
}

extension DatasetConfig {
    /// Walks one dataset's mapping, remembering where it is for error messages.
    private struct Reader {
        let path: String
        let dataset: String

        func error(_ code: FeatureSchemaError.Code, key: String?, _ detail: String, at node: Node? = nil) -> FeatureSchemaError {
            let line = node?.mark.map { " (line \($0.line))" } ?? ""
            return FeatureSchemaError(code, detail + line, path: path, dataset: dataset, key: key)
        }

        func checkKeys(_ mapping: Node.Mapping, prefix: String, known: Set<String>, ignored: Set<String>,
                       unsupported: [String: String]) throws(FeatureSchemaError) {
            for (keyNode, _) in mapping {
                guard let key = keyNode.string else {
                    throw error(.malformedYAML, key: prefix, "keys must be strings", at: keyNode)
                }
                if known.contains(key) || ignored.contains(key) { continue }
                let dotted = prefix.isEmpty ? key : "\(prefix).\(key)"
                if let reason = unsupported[key] {
                    throw error(.unsupported, key: dotted, reason, at: keyNode)
                }
                let suggestion = KeySuggestion.nearest(key, in: known.union(ignored)).map { "; did you mean \($0)?" } ?? ""
                throw error(.unknownKey, key: dotted, "not a dataset_config key\(suggestion)", at: keyNode)
            }
        }

        func string(_ node: Node, key: String) throws(FeatureSchemaError) -> String {
            guard let scalar = node.scalar else {
                throw error(.invalidValue, key: key, "expected a single value", at: node)
            }
            return scalar.string
        }

        func int(_ node: Node, key: String) throws(FeatureSchemaError) -> Int {
            guard let value = node.int else {
                throw error(.invalidValue, key: key, "expected an integer, found \(node.scalar?.string ?? "a collection")", at: node)
            }
            return value
        }

        func bool(_ node: Node, key: String) throws(FeatureSchemaError) -> Bool {
            guard let value = node.bool else {
                throw error(.invalidValue, key: key, "expected true or false, found \(node.scalar?.string ?? "a collection")", at: node)
            }
            return value
        }

        func read(_ body: Node.Mapping, folder: URL) throws(FeatureSchemaError) -> DatasetConfig {
            try checkKeys(body, prefix: "", known: DatasetConfig.datasetKeys, ignored: DatasetConfig.ignoredDatasetKeys,
                          unsupported: DatasetConfig.unsupportedDatasetKeys)
            if let format = body["data_format"] {
                let value = try string(format, key: "data_format")
                guard value == "csv" else {
                    throw error(.unsupported, key: "data_format", "\(value) is not supported; Clickwise reads csv (any sep)", at: format)
                }
            }
            var separator = UInt8(ascii: ",")
            if let sep = body["sep"] {
                let value = try string(sep, key: "sep")
                let bytes = Array((value == "\\t" ? "\t" : value).utf8)
                guard bytes.count == 1, bytes[0] != UInt8(ascii: "\""), bytes[0] != 0x0A, bytes[0] != 0x0D else {
                    throw error(.invalidValue, key: "sep", "the separator must be one character other than a quote or line end, found \"\(value)\"", at: sep)
                }
                separator = bytes[0]
            }
            func file(_ key: String) throws(FeatureSchemaError) -> String? {
                guard let node = body[key], node.null == nil else { return nil }
                let value = try string(node, key: key)
                return value.hasPrefix("/") ? value : folder.appendingPathComponent(value).standardizedFileURL.path
            }
            var minCount = 1
            if let node = body["min_categr_count"] {
                minCount = try int(node, key: "min_categr_count")
                guard minCount >= 1 else { throw error(.invalidValue, key: "min_categr_count", "must be >= 1", at: node) }
            }
            let label = try readLabel(body["label_col"])
            guard let columns = body["feature_cols"]?.sequence else {
                throw error(.malformedYAML, key: "feature_cols", body["feature_cols"] == nil ? "missing" : "expected a list of feature entries")
            }
            var fields: [FeatureSchema.Field] = [], inactive: [String] = []
            for (index, entry) in columns.enumerated() {
                try readFieldEntry(entry, index: index, fields: &fields, inactive: &inactive)
            }
            var columnNames: [String]?
            if let node = body["column_names"] {
                guard let list = node.sequence else {
                    throw error(.invalidValue, key: "column_names", "expected a list of column names", at: node)
                }
                var names: [String] = []
                for item in list { names.append(try string(item, key: "column_names")) }
                columnNames = names
            }
            var schema = FeatureSchema(datasetID: dataset, label: label, fields: fields, inactiveColumns: inactive)
            schema.minCount = minCount
            do {
                try schema.validate()
            } catch let failure {
                throw error(failure.code, key: "feature_cols", failure.detail)
            }
            if let columnNames {
                let present = Set(columnNames)
                for name in [label] + fields.map(\.name) where !present.contains(name) {
                    throw error(.missingColumn, key: "column_names", "\(name) is declared but not in column_names")
                }
            }
            return DatasetConfig(path: path, schema: schema, separator: separator, columnNames: columnNames,
                                 trainData: try file("train_data"), validData: try file("valid_data"),
                                 testData: try file("test_data"))
        }

        func readLabel(_ node: Node?) throws(FeatureSchemaError) -> String {
            guard var node else { throw error(.malformedYAML, key: "label_col", "missing (e.g. {name: clk, dtype: float})") }
            if let list = node.sequence {
                guard list.count == 1, let only = list.first else {
                    throw error(.unsupported, key: "label_col", "\(list.count) labels given; Clickwise trains one binary label", at: node)
                }
                node = only
            }
            guard let mapping = node.mapping else {
                throw error(.invalidValue, key: "label_col", "expected {name: ..., dtype: ...}", at: node)
            }
            try checkKeys(mapping, prefix: "label_col", known: ["name", "dtype"], ignored: [], unsupported: [:])
            guard let name = mapping["name"] else { throw error(.malformedYAML, key: "label_col.name", "missing", at: node) }
            return try string(name, key: "label_col.name")
        }

        func readFieldEntry(_ entry: Node, index: Int, fields: inout [FeatureSchema.Field], inactive: inout [String]) throws(FeatureSchemaError) {
            let at = "feature_cols[\(index)]"
            guard let mapping = entry.mapping else {
                throw error(.malformedYAML, key: at, "expected a mapping such as {name: user_id, type: categorical}", at: entry)
            }
            try checkKeys(mapping, prefix: at, known: DatasetConfig.fieldKeys, ignored: DatasetConfig.ignoredFieldKeys,
                          unsupported: DatasetConfig.unsupportedFieldKeys)
            guard let nameNode = mapping["name"] else { throw error(.malformedYAML, key: "\(at).name", "missing", at: entry) }
            var names: [String] = []
            if let list = nameNode.sequence {
                for item in list { names.append(try string(item, key: "\(at).name")) }
            } else {
                names = [try string(nameNode, key: "\(at).name")]
            }
            let active = try mapping["active"].map { (node) throws(FeatureSchemaError) in try bool(node, key: "\(at).active") } ?? true
            guard let typeNode = mapping["type"] else { throw error(.malformedYAML, key: "\(at).type", "missing", at: entry) }
            let typeName = try string(typeNode, key: "\(at).type")
            if typeName == "meta" {
                inactive += names
                return
            }
            guard let kind = FeatureSchema.Kind(rawValue: typeName) else {
                if typeName == "embedding" {
                    throw error(.unsupported, key: "\(at).type", "pretrained embedding features are not supported", at: typeNode)
                }
                throw error(.invalidValue, key: "\(at).type", "\(typeName) is not categorical, numeric or sequence", at: typeNode)
            }
            var valueType: FeatureSchema.ValueType = kind == .numeric ? .float : .string
            if let node = mapping["dtype"] {
                let text = try string(node, key: "\(at).dtype")
                guard let parsed = FeatureSchema.ValueType(rawValue: text) else {
                    throw error(.invalidValue, key: "\(at).dtype", "\(text) is not str, int or float", at: node)
                }
                valueType = parsed
            }
            var fillNA: String?
            if let node = mapping["fill_na"] ?? mapping["na_value"], node.null == nil {
                fillNA = try string(node, key: "\(at).fill_na")
            }
            let minCount = try mapping["min_categr_count"].map { (node) throws(FeatureSchemaError) in try int(node, key: "\(at).min_categr_count") }
            var normalizer = FeatureSchema.Normalizer.none
            if let node = mapping["normalizer"], node.null == nil {
                let text = try string(node, key: "\(at).normalizer")
                guard let parsed = FeatureSchema.Normalizer(rawValue: text) else {
                    throw error(.unsupported, key: "\(at).normalizer", "\(text) is not supported; use StandardScaler or MinMaxScaler", at: node)
                }
                normalizer = parsed
            }
            var preprocess = FeatureSchema.Preprocess.none
            var resolvedKind = kind
            if let node = mapping["preprocess"], node.null == nil {
                let text = try string(node, key: "\(at).preprocess")
                guard let parsed = FeatureSchema.Preprocess(rawValue: text) else {
                    throw error(.unsupported, key: "\(at).preprocess", "\(text) is not supported; Clickwise implements convert_to_bucket", at: node)
                }
                preprocess = parsed
                // FuxiCTR declares Criteo's bucketed integers `type: categorical`: one id per transformed
                // value. Clickwise computes that bucket inside the model from the scaled number, so the
                // field feeds the numeric input either way.
                if parsed == .convertToBucket { resolvedKind = .numeric }
            }
            for key in ["feature_encoder", "encoder"] {
                if let node = mapping[key], node.null == nil {
                    let text = try string(node, key: "\(at).\(key)")
                    guard text.contains("MaskedAveragePooling") else {
                        throw error(.unsupported, key: "\(at).\(key)", "\(text) is not supported; sequences use masked average pooling", at: node)
                    }
                }
            }
            var sequence: FeatureSchema.Sequence?
            let sequenceKeys = ["splitter", "max_len", "padding", "share_embedding"]
            if resolvedKind == .sequence {
                var settings = FeatureSchema.Sequence()
                if let node = mapping["splitter"] { settings.splitter = try string(node, key: "\(at).splitter") }
                if let node = mapping["max_len"], node.null == nil { settings.maxLength = try int(node, key: "\(at).max_len") }
                if let node = mapping["padding"] {
                    let text = try string(node, key: "\(at).padding")
                    guard let padding = FeatureSchema.Padding(rawValue: text) else {
                        throw error(.invalidValue, key: "\(at).padding", "\(text) is not pre or post", at: node)
                    }
                    settings.padding = padding
                }
                if let node = mapping["share_embedding"], node.null == nil {
                    settings.sharedWith = try string(node, key: "\(at).share_embedding")
                }
                sequence = settings
            } else if let stray = sequenceKeys.first(where: { mapping[$0] != nil && $0 != "share_embedding" }) {
                throw error(.invalidField, key: "\(at).\(stray)", "applies to sequence fields only", at: mapping[stray])
            } else if let node = mapping["share_embedding"], node.null == nil {
                throw error(.unsupported, key: "\(at).share_embedding", "only sequence fields can share a categorical field's embedding", at: node)
            }
            var source: String?
            if let node = mapping["source"], node.null == nil {
                source = try string(node, key: "\(at).source")
            }
            for name in names {
                if !active {
                    inactive.append(name)
                    continue
                }
                fields.append(FeatureSchema.Field(
                    name: name, kind: resolvedKind, valueType: valueType, fillNA: fillNA, minCount: minCount,
                    normalizer: normalizer, preprocess: preprocess, sequence: sequence, source: source))
            }
        }
    }
}
