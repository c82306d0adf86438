import ArgumentParser
import CTRFeatures
import CTRModels
import Foundation

/// `clickwise train`: fits features, trains DeepFM/AutoInt/LR in Swift and writes a model bundle.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CTR model on a declared dataset (or Criteo TSV) and write DIR/{model.onnx, features.json, model.json}.",
        discussion: """
            Defaults are FuxiCTR/BARS Criteo_x4 values: embedding 16, DeepFM hidden [400,400,400], AutoInt \
            3 layers × 2 heads × 64 (no DNN; --autoint-hidden-units adds AutoInt+'s), integers as \
            categories of their transformed value (buckets), Adam lr 1e-3, embedding L2 1e-5, min count 10, \
            FuxiCTR's schedule (lr ÷10 after an epoch without a better validation AUC, stop after 2 such epochs, \
            best epoch restored), rows reshuffled every epoch. --model-config reads a FuxiCTR model_config.yaml \
            (docs/TRAINING.md). Batch 2048 (BARS uses 10,000; smaller batches give \
            more updates per pass on CPU). Without --valid, every 10th training row is held out for validation. \
            scripts/train_default_models.sh holds the recipe of the shipped bundles. \
            With --dataset-config, a FuxiCTR-style dataset_config.yaml declares the columns (categorical, \
            numeric, sequence) and the files (train_data/valid_data, relative to the config; --train/--valid \
            override them); without it, --train is Criteo TSV (configs/criteo/dataset_config.yaml).
            """)

    @Option(name: [.customLong("architecture"), .customLong("model")],
            help: "Architecture: deepfm, autoint, dcnv2 or lr (default: the model config's `model`). --model is the older name.")
    var architecture: ModelArchitecture?

    @OptionGroup var datasetOptions: DatasetOptions

    @Option(help: "A FuxiCTR model_config.yaml: its --experiment (over its Base entry) sets the architecture and hyper-parameters; flags given here override it (docs/TRAINING.md).")
    var modelConfig: String?

    @Option(help: "The experiment id (FuxiCTR's expid, a top-level key) within --model-config (needed when the file holds several).")
    var experiment: String?

    @Option(help: "Training file (default: the config's train_data; Criteo TSV without a config).")
    var train: String?

    @Option(help: "Validation file (default: hold out every --holdout-every'th training row).")
    var valid: String?

    @Option(help: "Output bundle directory.")
    var out: String

    @Option(help: "Start from this bundle (trained by clickwise, without batch norm): its architecture and settings, every known value's id and vector, its numeric scaling; values new in --train above the min count get fresh rows. model.json records the parent.")
    var warmStart: String?

    // Each setting below is optional: nil keeps the model config's value, or the default named in its help.
    @Option(help: "Maximum epochs (default 10).") var epochs: Int?
    @Option(help: "Rows per step (default 2048).") var batchSize: Int?
    @Option(help: "Adam learning rate (default 1e-3).") var lr: Float?
    @Option(help: "Lazy L2 on the embedding rows each batch uses (default 1e-5; 0 with --embedding-regularizer).") var embeddingL2: Float?
    @Option(help: "FuxiCTR's embedding_regularizer: L2 over whole embedding tables every step (default 0: off).")
    var embeddingRegularizer: Float?
    @Option(help: "FuxiCTR's net_regularizer: L2 on every other parameter (default 0).") var netRegularizer: Float?
    @Option(help: "Dropout after each hidden DNN layer while training (FuxiCTR net_dropout; default 0).") var netDropout: Float?
    @Flag(inversion: .prefixedNo, help: "Batch normalization after each hidden DNN layer (FuxiCTR batch_norm; default off).")
    var batchNorm: Bool?
    @Flag(inversion: .prefixedNo, help: "Divide the learning rate by 10 after an epoch without improvement (FuxiCTR's reduce_lr_on_plateau; default on).")
    var reduceLrOnPlateau: Bool?
    @Flag(inversion: .prefixedNo, help: "Visit the training rows in a new seeded order every epoch, in memory when they fit in 2 GiB (FuxiCTR's shuffle; default on).")
    var shuffle: Bool?
    @Option(help: "The validation metric that picks the best epoch: AUC (default), logloss, or AUC-logloss (FuxiCTR's {AUC: 1, logloss: -1}).")
    var monitor: String?
    @Option(help: "Seed for weight initialisation (default 2024).") var seed: UInt64?
    @Option(help: "Minimum count for a categorical value to get its own id (default: the config's min_categr_count; 10 for Criteo).")
    var minCount: Int?
    @Option(help: "convert_to_bucket fields: buckets (an embedding per transformed value) or numeric (value × vector); other numeric fields are always value × vector.")
    var denseEncoding = DenseEncoding.buckets
    @Option(help: "Use at most this many rows of the training file.") var maxRows: Int?
    @Option(help: "Evaluate on at most this many validation rows per epoch.") var maxValidationRows: Int?
    @Option(help: "Epochs in a row without a better monitored metric before stopping (default 2).") var patience: Int?
    @Option(name: [.customLong("blas-threads"), .customLong("threads")],
            help: "OpenBLAS threads, which also split the row-wise work (--threads: the old name, deprecated).") var threads = 2
    @Option(help: "Without --valid, hold out every N-th training row.") var holdoutEvery = 10
    @Option(help: "Embedding width (default 16).") var embeddingDim: Int?
    @Option(help: "DeepFM hidden layers, comma-separated (default 400,400,400).") var hiddenUnits: String?
    @Option(help: "AutoInt attention layers (default 3).") var attentionLayers: Int?
    @Option(help: "AutoInt heads (default 2).") var attentionHeads: Int?
    @Option(help: "AutoInt attention width, all heads (default 64).") var attentionDim: Int?
    @Flag(inversion: .prefixedNo, help: "AutoInt: divide attention scores by √head_dim (default off).") var useScale: Bool?
    @Flag(inversion: .prefixedNo, help: "AutoInt: add the linear (wide) part (default off).") var useWide: Bool?
    @Flag(inversion: .prefixedNo, help: "AutoInt: layer normalization after each attention layer (FuxiCTR layer_norm; default off).")
    var layerNorm: Bool?
    @Option(help: "AutoInt: hidden layers of a parallel DNN (AutoInt+), comma-separated; empty for plain AutoInt (default).")
    var autointHiddenUnits: String?
    @Option(help: "DCNv2: cross layers (default 3).") var crossLayers: Int?
    @Option(help: "DCNv2: crossnet_only, stacked, parallel (default; its DNN is --hidden-units) or stacked_parallel.")
    var crossStructure: DCNv2.Structure?
    @Option(help: "DCNv2: hidden layers of the DNN stacked on the cross network, comma-separated.") var stackedHiddenUnits: String?
    @Flag(help: "Plain log lines even on a terminal.") var noProgress = false
    @Option(help: "ONNX external data (weights in model.onnx.data beside model.onnx): auto (when the weights pass 1 GiB; protobuf cannot hold 2 GB), always or never.")
    var externalData = "auto"

    func validate() throws {
        _ = try trainingConfiguration()
        _ = try externalDataAbove()
    }

    /// `--external-data` as the exporter's weight-size threshold.
    func externalDataAbove() throws -> Int? {
        switch externalData {
        case "auto": return ONNXExporter.automaticExternalDataBytes
        case "always": return 0
        case "never": return nil
        default: throw ValidationError("--external-data must be auto, always or never, got \"\(externalData)\"")
        }
    }

    /// The model config's experiment, when --model-config is given; a bad file is a one-line CLI error.
    func loadModelConfig() throws -> ModelConfig? {
        guard let modelConfig else {
            if experiment != nil { throw ValidationError("--experiment needs --model-config") }
            return nil
        }
        do {
            return try ModelConfig(contentsOf: URL(fileURLWithPath: modelConfig), experimentID: experiment)
        } catch {
            throw CLIError(error.description)
        }
    }

    /// Defaults, then the model config's experiment, then the flags given here.
    func trainingConfiguration() throws -> TrainingConfiguration {
        var config: TrainingConfiguration
        if let file = try loadModelConfig() {
            do {
                config = try TrainingConfiguration(modelConfig: file)
            } catch {
                throw CLIError(error.description)
            }
            if let architecture, architecture != config.architecture {
                throw ValidationError("--architecture \(architecture.rawValue) contradicts \(file.path)'s model \(file.model)")
            }
        } else {
            // A warm start takes its parent's architecture (the Trainer sets it); .lr only fills the slot.
            guard let architecture = architecture ?? (warmStart == nil ? nil : .lr) else {
                throw ValidationError("--architecture (deepfm, autoint, dcnv2 or lr) or --model-config is required")
            }
            config = TrainingConfiguration(architecture: architecture)
            config.minCount = 10
        }
        if let epochs { config.epochs = epochs }
        if let batchSize { config.batchSize = batchSize }
        if let lr { config.optimizer.learningRate = lr }
        if let embeddingRegularizer {
            config.optimizer.embeddingRegularizer = embeddingRegularizer
            if embeddingL2 == nil { config.optimizer.embeddingL2 = 0 }
        }
        if let embeddingL2 { config.optimizer.embeddingL2 = embeddingL2 }
        if let netRegularizer { config.optimizer.weightL2 = netRegularizer }
        if let netDropout { config.hyperparameters.netDropout = netDropout }
        if let batchNorm { config.hyperparameters.batchNorm = batchNorm }
        if let reduceLrOnPlateau { config.reduceLearningRateOnPlateau = reduceLrOnPlateau }
        if let shuffle { config.shuffle = shuffle }
        if let monitor { config.monitor = try Self.monitor(monitor) }
        if let seed { config.seed = seed }
        if let minCount { config.minCount = minCount }
        config.denseEncoding = denseEncoding
        config.maxRows = maxRows
        config.maxValidationRows = maxValidationRows
        if let patience { config.patience = patience }
        config.threads = threads
        config.holdoutEvery = holdoutEvery
        if let embeddingDim { config.hyperparameters.embeddingDimension = embeddingDim }
        if let hiddenUnits { config.hyperparameters.hiddenUnits = try Self.units(hiddenUnits, option: "--hidden-units") }
        if let autointHiddenUnits {
            config.hyperparameters.autoIntHiddenUnits = try Self.units(autointHiddenUnits, option: "--autoint-hidden-units")
        }
        if let attentionLayers { config.hyperparameters.attentionLayers = attentionLayers }
        if let attentionHeads { config.hyperparameters.attentionHeads = attentionHeads }
        if let attentionDim { config.hyperparameters.attentionDimension = attentionDim }
        if let useScale { config.hyperparameters.useScale = useScale }
        if let useWide { config.hyperparameters.useWide = useWide }
        if let layerNorm { config.hyperparameters.layerNorm = layerNorm }
        if let crossLayers { config.hyperparameters.crossLayers = crossLayers }
        if let crossStructure { config.hyperparameters.crossStructure = crossStructure }
        if let stackedHiddenUnits {
            config.hyperparameters.stackedHiddenUnits = try Self.units(stackedHiddenUnits, option: "--stacked-hidden-units")
        }
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return config
    }

    /// `--monitor AUC|logloss|AUC-logloss`.
    static func monitor(_ text: String) throws -> TrainingMonitor {
        switch text.lowercased() {
        case "auc": return .auc
        case "logloss": return .logLoss
        case "auc-logloss": return TrainingMonitor(aucWeight: 1, logLossWeight: -1)
        default: throw ValidationError("--monitor must be AUC, logloss or AUC-logloss, got \(text)")
        }
    }

    /// Parses a comma-separated list of layer widths ("" is no layers).
    static func units(_ text: String, option: String) throws -> [Int] {
        let units = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard units.allSatisfy({ $0 != nil }) else {
            throw ValidationError("\(option) must be comma-separated integers, got \"\(text)\"")
        }
        return units.compactMap { $0 }
    }

    /// The dataset: the given config file, or the Criteo preset. Without --dataset-id, the model config's
    /// `dataset_id` picks the dataset when the file has one by that name.
    func dataset() throws -> DatasetConfig {
        if datasetOptions.datasetConfig == nil, datasetOptions.datasetId != nil {
            throw ValidationError("--dataset-id needs --dataset-config")
        }
        if let path = datasetOptions.datasetConfig, datasetOptions.datasetId == nil, let id = try loadModelConfig()?.datasetID,
           let named = try? DatasetConfig(contentsOf: URL(fileURLWithPath: path), datasetID: id) {
            return named
        }
        return try datasetOptions.load() ?? .criteoPreset
    }

    func run() throws {
        var config = try trainingConfiguration()
        let parent = try warmStart.map { (path) throws in
            do throws(CTRModelsError) { return try ModelBundleReader.read(URL(fileURLWithPath: path)) } catch { throw CLIError("--warm-start \(path): \(error.description)") }
        }
        if let parent, let architecture, architecture != parent.card.configuration.architecture {
            throw ValidationError("--architecture \(architecture.rawValue) contradicts --warm-start \(parent.path), a \(parent.card.configuration.architecture.rawValue) model: a warm start keeps its parent's architecture")
        }
        if let parent, minCount == nil, datasetOptions.datasetConfig == nil { config.minCount = parent.featureMap.minCount }
        // A warm start reads its data as its parent did unless a dataset config says otherwise.
        let dataset = try datasetOptions.datasetConfig == nil ? parent?.featureMap.datasetConfig ?? dataset() : dataset()
        let datasetConfig = datasetOptions.datasetConfig
        if minCount == nil, datasetConfig != nil { config.minCount = dataset.schema.minCount }
        guard let trainPath = train ?? dataset.trainData else {
            throw CLIError(datasetConfig.map { "\($0): dataset \(dataset.schema.datasetID): no train_data; give --train FILE" }
                           ?? "--train FILE is required without --dataset-config")
        }
        let validPath = valid ?? dataset.validData
        let externalDataLimit = try externalDataAbove()
        let progress = TrainingProgressPrinter(interactive: !noProgress && isatty(STDERR_FILENO) == 1)
        do {
            let trainer = try Trainer(configuration: config, dataset: dataset, trainPath: trainPath, validationPath: validPath, parent: parent)
            let experimentNote = config.modelConfigSource.map { " (\($0))" } ?? ""
            let warm = parent.map { " from \($0.path)" } ?? ""
            config = trainer.configuration
            logLine("training \(config.architecture.rawValue)\(experimentNote)\(warm) on \(trainPath) (dataset \(dataset.schema.datasetID): \(dataset.schema.categoricalFields.count) categorical, \(dataset.schema.numericFields.count) numeric, \(dataset.schema.sequenceFields.count) sequence fields; batch \(config.batchSize), lr \(config.optimizer.learningRate), \(threads) threads)")
            let outcome = try trainer.run { progress.handle($0) }
            let directory = URL(fileURLWithPath: out)
            try ModelBundleWriter.write(outcome, to: directory, externalDataAbove: externalDataLimit)
            let card = outcome.card
            let size = (try? FileManager.default.attributesOfItem(
                atPath: directory.appendingPathComponent("model.onnx").path)[.size] as? Int) ?? 0
            let context = outcome.featureMap.schema.contextFields.map(\.name)
            let ranking = FileManager.default.fileExists(atPath: directory.appendingPathComponent(ModelBundleWriter.rankingFile).path)
                ? ", ranking.onnx (\(context.count) context fields: \(context.joined(separator: ", ")))" : ""
            logLine("""
                wrote \(out): model.onnx \(String(format: "%.1f", Double(size) / 1_048_576)) MB, features.json, model.json\(ranking); \
                best epoch \(card.bestEpoch): validation AUC \(formatMetric(card.validationAUC)), logloss \
                \(String(format: "%.5f", card.validationLogLoss)), \(Int(card.trainRowsPerSecond)) rows/s
                """)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// Formats an optional metric.
func formatMetric(_ value: Double?) -> String {
    value.map { String(format: "%.5f", $0) } ?? "n/a"
}

/// Writes one line to standard error.
func logLine(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
