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
            early stopping on validation AUC (patience 2). Batch 2048 (BARS uses 10,000; smaller batches give \
            more updates per pass on CPU). Without --valid, every 10th training row is held out for validation. \
            scripts/train_default_models.sh holds the recipe of the shipped bundles. \
            With --dataset-config, a FuxiCTR-style dataset_config.yaml declares the columns (categorical, \
            numeric, sequence) and the files (train_data/valid_data, relative to the config; --train/--valid \
            override them); without it, --train is Criteo TSV (configs/criteo/dataset_config.yaml).
            """)

    @Option(help: "Architecture: deepfm, autoint or lr.")
    var model: ModelArchitecture

    @OptionGroup var datasetOptions: DatasetOptions

    @Option(help: "Training file (default: the config's train_data; Criteo TSV without a config).")
    var train: String?

    @Option(help: "Validation file (default: hold out every --holdout-every'th training row).")
    var valid: String?

    @Option(help: "Output bundle directory.")
    var out: String

    @Option(help: "Maximum epochs.") var epochs = 10
    @Option(help: "Rows per step.") var batchSize = 2048
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "L2 on embedding rows.") var embeddingL2: Float = 1e-5
    @Option(help: "Seed for weight initialisation.") var seed: UInt64 = 2024
    @Option(help: "Minimum count for a categorical value to get its own id (default: the config's min_categr_count; 10 for Criteo).")
    var minCount: Int?
    @Option(help: "convert_to_bucket fields: buckets (an embedding per transformed value) or numeric (value × vector); other numeric fields are always value × vector.")
    var denseEncoding = DenseEncoding.buckets
    @Option(help: "Use at most this many rows of the training file.") var maxRows: Int?
    @Option(help: "Evaluate on at most this many validation rows per epoch.") var maxValidationRows: Int?
    @Option(help: "Epochs without a better validation AUC before stopping.") var patience = 2
    @Option(help: "Threads (OpenBLAS and row-split work).") var threads = 2
    @Option(help: "Without --valid, hold out every N-th training row.") var holdoutEvery = 10
    @Option(help: "Embedding width.") var embeddingDim = 16
    @Option(help: "DeepFM hidden layers, comma-separated.") var hiddenUnits = "400,400,400"
    @Option(help: "AutoInt attention layers.") var attentionLayers = 3
    @Option(help: "AutoInt heads.") var attentionHeads = 2
    @Option(help: "AutoInt attention width (all heads).") var attentionDim = 64
    @Flag(help: "AutoInt: divide attention scores by √head_dim.") var useScale = false
    @Flag(help: "AutoInt: add the linear (wide) part.") var useWide = false
    @Option(help: "AutoInt: hidden layers of a parallel DNN (AutoInt+), comma-separated; empty for plain AutoInt.")
    var autointHiddenUnits = ""
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

    func trainingConfiguration() throws -> TrainingConfiguration {
        var config = TrainingConfiguration(architecture: model)
        config.epochs = epochs
        config.batchSize = batchSize
        config.optimizer = .init(learningRate: lr, embeddingL2: embeddingL2)
        config.seed = seed
        config.minCount = minCount ?? 10
        config.denseEncoding = denseEncoding
        config.maxRows = maxRows
        config.maxValidationRows = maxValidationRows
        config.patience = patience
        config.threads = threads
        config.holdoutEvery = holdoutEvery
        config.hyperparameters.embeddingDimension = embeddingDim
        config.hyperparameters.hiddenUnits = try Self.units(hiddenUnits, option: "--hidden-units")
        config.hyperparameters.autoIntHiddenUnits = try Self.units(autointHiddenUnits, option: "--autoint-hidden-units")
        config.hyperparameters.attentionLayers = attentionLayers
        config.hyperparameters.attentionHeads = attentionHeads
        config.hyperparameters.attentionDimension = attentionDim
        config.hyperparameters.useScale = useScale
        config.hyperparameters.useWide = useWide
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return config
    }

    /// Parses a comma-separated list of layer widths ("" is no layers).
    static func units(_ text: String, option: String) throws -> [Int] {
        let units = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard units.allSatisfy({ $0 != nil }) else {
            throw ValidationError("\(option) must be comma-separated integers, got \"\(text)\"")
        }
        return units.compactMap { $0 }
    }

    /// The dataset: the given config file, or the Criteo preset.
    func dataset() throws -> DatasetConfig {
        if datasetOptions.datasetConfig == nil, datasetOptions.datasetId != nil {
            throw ValidationError("--dataset-id needs --dataset-config")
        }
        return try datasetOptions.load() ?? .criteoPreset
    }

    func run() throws {
        var config = try trainingConfiguration()
        let dataset = try dataset()
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
            let trainer = try Trainer(configuration: config, dataset: dataset, trainPath: trainPath, validationPath: validPath)
            logLine("training \(model.rawValue) on \(trainPath) (dataset \(dataset.schema.datasetID): \(dataset.schema.categoricalFields.count) categorical, \(dataset.schema.numericFields.count) numeric, \(dataset.schema.sequenceFields.count) sequence fields; batch \(batchSize), lr \(lr), \(threads) threads)")
            let outcome = try trainer.run { progress.handle($0) }
            let directory = URL(fileURLWithPath: out)
            try ModelBundleWriter.write(outcome, to: directory, externalDataAbove: externalDataLimit)
            let card = outcome.card
            let size = (try? FileManager.default.attributesOfItem(
                atPath: directory.appendingPathComponent("model.onnx").path)[.size] as? Int) ?? 0
            logLine("""
                wrote \(out): model.onnx \(String(format: "%.1f", Double(size) / 1_048_576)) MB, features.json, model.json; \
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
