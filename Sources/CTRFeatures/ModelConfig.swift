import Foundation
import Yams

/// One experiment of a FuxiCTR `model_config.yaml`, read as FuxiCTR reads it: the top-level key named by
/// `--experiment` (FuxiCTR's `expid`), over the file's `Base` entry, which supplies defaults.
///
/// Every setting is optional: what the file leaves out keeps Clickwise's default, and command-line flags
/// override the file. Keys that only steer FuxiCTR's own machinery (`gpu`, `num_workers`, `verbose`,
/// `model_root`, ...) are accepted and ignored; a value Clickwise cannot honour (another optimizer, a gAUC
/// monitor, an activation other than ReLU) is an error naming the key; an unknown key is an error suggesting
/// the nearest known one. FuxiCTR 1.x and 2.x spellings are both read (`patience`/`early_stop_patience`,
/// `hidden_units`/`dnn_hidden_units`, DCNv2's `stacked_dnn_hidden_units`/`parallel_dnn_hidden_units`).
public struct ModelConfig: Sendable, Equatable {
    /// The file it came from.
    public var path: String
    /// The experiment id (the top-level key).
    public var experimentID: String
    /// FuxiCTR's model class name: `DeepFM`, `AutoInt`, `LR`, `DCNv2`.
    public var model = ""
    /// The dataset the experiment names (`dataset_id`), if any.
    public var datasetID: String?
    public var embeddingDimension: Int?
    /// `hidden_units` (DeepFM, DCN) or `dnn_hidden_units` (AutoInt+, DCNv2).
    public var hiddenUnits: [Int]?
    public var netDropout: Double?
    public var batchNorm: Bool?
    /// L2 coefficient over whole embedding tables (`embedding_regularizer`).
    public var embeddingRegularizer: Double?
    /// L2 coefficient over every other parameter (`net_regularizer`).
    public var netRegularizer: Double?
    public var learningRate: Double?
    public var batchSize: Int?
    public var epochs: Int?
    /// `patience` (1.x) or `early_stop_patience` (2.x).
    public var patience: Int?
    /// Weights of AUC and logloss in the monitored score, with `monitor_mode` applied (larger is better).
    public var monitor: MonitorWeights?
    public var seed: UInt64?
    public var reduceLearningRateOnPlateau: Bool?
    /// Whether the training rows are visited in a new order every epoch (`shuffle`).
    public var shuffle: Bool?
    public var attentionLayers: Int?
    public var attentionHeads: Int?
    public var attentionDimension: Int?
    public var useResidual: Bool?
    public var useScale: Bool?
    public var useWide: Bool?
    public var layerNorm: Bool?
    /// DCNv2: `stacked`, `parallel`, `stacked_parallel` or `crossnet_only`.
    public var modelStructure: String?
    public var crossLayers: Int?
    public var stackedHiddenUnits: [Int]?
    public var parallelHiddenUnits: [Int]?
    public var useLowRankMixture: Bool?
    public var lowRank: Int?
    public var experts: Int?

    /// The weights FuxiCTR's `monitor` gives AUC and logloss.
    public struct MonitorWeights: Sendable, Equatable {
        /// The weight of AUC.
        public var auc: Double
        /// The weight of logloss.
        public var logLoss: Double

        /// Weights of the two metrics.
        public init(auc: Double, logLoss: Double) {
            self.auc = auc
            self.logLoss = logLoss
        }
    }

    /// An empty experiment (every setting nil).
    init(path: String, experimentID: String) {
        self.path = path
        self.experimentID = experimentID
    }

    /// Keys read into settings.
    static let knownKeys: Set<String> = [
        "model", "dataset_id", "embedding_dim", "hidden_units", "dnn_hidden_units", "hidden_activations", "dnn_activations",
        "net_dropout", "batch_norm", "embedding_regularizer", "net_regularizer", "learning_rate", "batch_size", "epochs",
        "patience", "early_stop_patience", "monitor", "monitor_mode", "seed", "reduce_lr_on_plateau", "attention_layers",
        "num_heads", "attention_dim", "use_residual", "use_scale", "use_wide", "layer_norm", "model_structure",
        "num_cross_layers", "stacked_dnn_hidden_units", "parallel_dnn_hidden_units", "use_low_rank_mixture", "low_rank",
        "num_experts", "task", "loss", "optimizer", "embedding_initializer", "regularizer", "shuffle",
    ]
    /// Keys that steer only FuxiCTR's own pipeline; reading them changes nothing here.
    static let ignoredKeys: Set<String> = [
        "gpu", "num_workers", "verbose", "model_root", "model_id", "save_best_only", "every_x_epochs", "eval_interval",
        "eval_steps", "debug", "debug_mode", "pickle_feature_encoder", "use_hdf5", "metrics", "feature_specs",
        "feature_config", "group_id", "ordered_features", "use_features", "max_gradient_norm", "accumulation_steps",
    ]

    /// Reads experiment `experimentID` (or the file's only experiment besides `Base`) from a model config file.
    public init(contentsOf url: URL, experimentID: String? = nil) throws(ModelConfigError) {
        let path = url.path
        switch ConfigYAML.text(of: url) {
        case .success(let text): try self.init(yaml: text, path: path, experimentID: experimentID)
        case .failure(let failure): throw ModelConfigError(.unreadable, failure.reason, path: path)
        }
    }

    /// Reads experiment `experimentID` from YAML text; `path` labels errors.
    public init(yaml text: String, path: String, experimentID: String? = nil) throws(ModelConfigError) {
        let top: Node.Mapping
        switch ConfigYAML.topMapping(text, expected: "experiment ids") {
        case .success(let mapping): top = mapping
        case .failure(let failure): throw ModelConfigError(.malformedYAML, failure.reason, path: path)
        }
        let experiments = top.compactMap { $0.key.string }.filter { $0 != "Base" }
        let chosen: String
        if let experimentID {
            guard experiments.contains(experimentID) else {
                let suggestion = KeySuggestion.nearest(experimentID, in: Set(experiments)).map { "; did you mean \($0)?" } ?? ""
                throw ModelConfigError(.unknownExperiment,
                                       "no experiment \(experimentID) in the file (it has: \(experiments.prefix(12).joined(separator: ", "))\(experiments.count > 12 ? ", ..." : ""))\(suggestion)",
                                       path: path)
            }
            chosen = experimentID
        } else {
            guard experiments.count == 1 else {
                throw ModelConfigError(.unknownExperiment,
                                       "the file has \(experiments.count) experiments (\(experiments.prefix(12).joined(separator: ", "))\(experiments.count > 12 ? ", ..." : "")); choose one with --experiment",
                                       path: path)
            }
            chosen = experiments[0]
        }
        // Base first, then the experiment's own keys over it (FuxiCTR's load_model_config).
        var settings: [(key: String, node: Node)] = []
        for id in ["Base", chosen] {
            guard let entry = top[id] else { continue }
            guard let mapping = entry.mapping else {
                throw ModelConfigError(.malformedYAML, "\(id) must be a mapping of settings", path: path, experiment: chosen)
            }
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else {
                    throw ModelConfigError(.malformedYAML, "keys must be strings", path: path, experiment: chosen)
                }
                settings.removeAll { $0.key == key }
                settings.append((key, value))
            }
        }
        self = try Reader(path: path, experiment: chosen).read(settings)
    }

    /// Walks one experiment's settings, remembering where it is for error messages.
    private struct Reader {
        let path: String
        let experiment: String

        func error(_ kind: ModelConfigError.Kind, key: String, _ detail: String, at node: Node? = nil) -> ModelConfigError {
            let line = node?.mark.map { " (line \($0.line))" } ?? ""
            return ModelConfigError(kind, detail + line, path: path, experiment: experiment, key: key)
        }

        func string(_ node: Node, _ key: String) throws(ModelConfigError) -> String {
            guard let scalar = node.scalar else { throw error(.invalidValue, key: key, "expected a single value", at: node) }
            return scalar.string
        }

        func int(_ node: Node, _ key: String, minimum: Int = 1) throws(ModelConfigError) -> Int {
            guard let value = node.int, value >= minimum else {
                throw error(.invalidValue, key: key, "expected an integer >= \(minimum), found \(node.scalar?.string ?? "a collection")", at: node)
            }
            return value
        }

        func bool(_ node: Node, _ key: String) throws(ModelConfigError) -> Bool {
            guard let value = node.bool else {
                throw error(.invalidValue, key: key, "expected true or false, found \(node.scalar?.string ?? "a collection")", at: node)
            }
            return value
        }

        /// A number written as a YAML number or a string (`"1e-5"`, as FuxiCTR's configs often quote it).
        func number(_ node: Node, _ key: String, range: ClosedRange<Double> = 0...Double.greatestFiniteMagnitude) throws(ModelConfigError) -> Double {
            guard let text = node.scalar?.string, let value = Double(text.trimmingCharacters(in: .whitespaces)),
                  range.contains(value) else {
                throw error(.invalidValue, key: key, "expected a number in \(range.lowerBound)...\(range.upperBound == .greatestFiniteMagnitude ? "∞" : "\(range.upperBound)"), found \(node.scalar?.string ?? "a collection")", at: node)
            }
            return value
        }

        func units(_ node: Node, _ key: String) throws(ModelConfigError) -> [Int] {
            guard let list = node.sequence else {
                if node.null != nil { return [] }
                throw error(.invalidValue, key: key, "expected a list of layer widths such as [400, 400, 400]", at: node)
            }
            var widths: [Int] = []
            for item in list { widths.append(try int(item, key)) }
            return widths
        }

        /// A regularizer: one L2 coefficient (`0.05`, `"1e-5"`); FuxiCTR's `[(1, λ1), (2, λ2)]` lists are refused.
        func regularizer(_ node: Node, _ key: String) throws(ModelConfigError) -> Double {
            if node.null != nil { return 0 }
            guard let text = node.scalar?.string, let value = Double(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw error(.unsupported, key: key, "only an L2 coefficient (a number such as 0.05 or \"1e-5\") is supported, found \(node.scalar?.string ?? "a list")", at: node)
            }
            return value
        }

        /// `hidden_activations`/`dnn_activations`: ReLU only, as one name or one per layer.
        func checkActivations(_ node: Node, _ key: String) throws(ModelConfigError) {
            let names: [String]
            if let list = node.sequence {
                var all: [String] = []
                for item in list { all.append(try string(item, key)) }
                names = all
            } else {
                names = [try string(node, key)]
            }
            if let other = names.first(where: { $0.lowercased() != "relu" }) {
                throw error(.unsupported, key: key, "\(other) is not supported; Clickwise's DNN layers use ReLU", at: node)
            }
        }

        func expect(_ node: Node, _ key: String, oneOf accepted: [String], _ why: String) throws(ModelConfigError) {
            let value = try string(node, key)
            guard accepted.contains(value.lowercased()) else { throw error(.unsupported, key: key, "\(value): \(why)", at: node) }
        }

        func read(_ settings: [(key: String, node: Node)]) throws(ModelConfigError) -> ModelConfig {
            var config = ModelConfig(path: path, experimentID: experiment)
            var monitorNode: Node?, monitorMode = "max"
            for (key, node) in settings {
                switch key {
                case "model": config.model = try string(node, key)
                case "dataset_id": config.datasetID = node.null == nil ? try string(node, key) : nil
                case "embedding_dim": config.embeddingDimension = try int(node, key)
                case "hidden_units", "dnn_hidden_units": config.hiddenUnits = try units(node, key)
                case "hidden_activations", "dnn_activations": try checkActivations(node, key)
                case "net_dropout": config.netDropout = try number(node, key, range: 0...0.99)
                case "batch_norm": config.batchNorm = try bool(node, key)
                case "embedding_regularizer": config.embeddingRegularizer = try regularizer(node, key)
                case "net_regularizer": config.netRegularizer = try regularizer(node, key)
                case "regularizer":
                    // LR's and FM's single knob in FuxiCTR's model zoo: both regularizers at once.
                    let value = try regularizer(node, key)
                    config.embeddingRegularizer = value
                    config.netRegularizer = value
                case "learning_rate": config.learningRate = try number(node, key)
                case "batch_size": config.batchSize = try int(node, key)
                case "epochs": config.epochs = try int(node, key)
                case "patience", "early_stop_patience": config.patience = try int(node, key, minimum: 0)
                case "monitor": monitorNode = node
                case "monitor_mode": monitorMode = try string(node, key).lowercased()
                case "seed": config.seed = UInt64(try int(node, key, minimum: 0))
                case "reduce_lr_on_plateau": config.reduceLearningRateOnPlateau = try bool(node, key)
                case "shuffle": config.shuffle = try bool(node, key)
                case "attention_layers": config.attentionLayers = try int(node, key)
                case "num_heads": config.attentionHeads = try int(node, key)
                case "attention_dim": config.attentionDimension = try int(node, key)
                case "use_residual": config.useResidual = try bool(node, key)
                case "use_scale": config.useScale = try bool(node, key)
                case "use_wide": config.useWide = try bool(node, key)
                case "layer_norm": config.layerNorm = try bool(node, key)
                case "model_structure": config.modelStructure = try string(node, key)
                case "num_cross_layers": config.crossLayers = try int(node, key)
                case "stacked_dnn_hidden_units": config.stackedHiddenUnits = try units(node, key)
                case "parallel_dnn_hidden_units": config.parallelHiddenUnits = try units(node, key)
                case "use_low_rank_mixture": config.useLowRankMixture = try bool(node, key)
                case "low_rank": config.lowRank = try int(node, key)
                case "num_experts": config.experts = try int(node, key)
                case "task": try expect(node, key, oneOf: ["binary_classification"], "Clickwise trains click (binary) models only")
                case "loss": try expect(node, key, oneOf: ["binary_crossentropy", "bce"], "Clickwise trains with binary cross-entropy")
                case "optimizer": try expect(node, key, oneOf: ["adam"], "Clickwise trains with Adam")
                case "embedding_initializer":
                    let value = try string(node, key).replacingOccurrences(of: " ", with: "")
                    guard ["partial(nn.init.normal_,std=1e-4)", "partial(nn.init.normal_,std=0.0001)"].contains(value) else {
                        throw error(.unsupported, key: key, "\(value): Clickwise initializes embeddings as FuxiCTR's default, normal with std 1e-4", at: node)
                    }
                default:
                    if ModelConfig.ignoredKeys.contains(key) { continue }
                    let suggestion = KeySuggestion.nearest(key, in: ModelConfig.knownKeys.union(ModelConfig.ignoredKeys))
                        .map { "; did you mean \($0)?" } ?? ""
                    throw error(.unknownKey, key: key, "not a model_config key\(suggestion)", at: node)
                }
            }
            guard !config.model.isEmpty else { throw error(.invalidValue, key: "model", "missing: the experiment names no model (DeepFM, AutoInt, LR, DCNv2)") }
            if let node = monitorNode { config.monitor = try monitor(node, mode: monitorMode) }
            return config
        }

        /// `AUC`, `logloss`, or `{AUC: 1, logloss: -1}`, with `monitor_mode: min` turning the signs.
        func monitor(_ node: Node, mode: String) throws(ModelConfigError) -> MonitorWeights {
            guard mode == "max" || mode == "min" else {
                throw error(.invalidValue, key: "monitor_mode", "expected max or min, found \(mode)")
            }
            var weights: [String: Double] = [:]
            if let mapping = node.mapping {
                for (keyNode, value) in mapping {
                    let metric = try string(keyNode, "monitor")
                    guard let weight = value.float else {
                        throw error(.invalidValue, key: "monitor.\(metric)", "expected a number", at: value)
                    }
                    weights[metric] = weight
                }
            } else {
                weights[try string(node, "monitor")] = 1
            }
            var auc = 0.0, logLoss = 0.0
            for (metric, weight) in weights {
                switch metric.lowercased() {
                case "auc": auc += weight
                case "logloss", "binary_crossentropy": logLoss += weight
                default:
                    throw error(.unsupported, key: "monitor", "\(metric) cannot be monitored here (AUC and logloss can; gAUC needs per-user groups)", at: node)
                }
            }
            // FuxiCTR maximizes the weighted sum in max mode and minimizes it in min mode ("logloss" alone is min).
            let sign = mode == "min" ? -1.0 : 1.0
            return MonitorWeights(auc: sign * auc, logLoss: sign * logLoss)
        }
    }
}

/// Why a model config was refused; one line naming the file, the experiment and the key.
public struct ModelConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a model-config failure.
    public enum Kind: String, Sendable, Equatable {
        case unreadable = "unreadable file"
        case malformedYAML = "malformed YAML"
        case unknownExperiment = "unknown experiment"
        case unknownKey = "unknown key"
        case unsupported = "unsupported setting"
        case invalidValue = "invalid value"
    }

    /// The category.
    public var kind: Kind
    /// What exactly is wrong.
    public var detail: String
    /// The config file.
    public var path: String
    /// The experiment id, once known.
    public var experiment: String?
    /// The key involved.
    public var key: String?

    /// Creates an error.
    public init(_ kind: Kind, _ detail: String, path: String, experiment: String? = nil, key: String? = nil) {
        self.kind = kind
        self.detail = detail
        self.path = path
        self.experiment = experiment
        self.key = key
    }

    /// One line: file, experiment and key, then the category and the detail.
    public var description: String {
        var location = path
        if let experiment { location += ": experiment \(experiment)" }
        if let key { location += ": \(key)" }
        return "\(location): \(kind.rawValue): \(detail)"
    }
}
