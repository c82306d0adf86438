/// Everything that determines a training run; recorded in model.json.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// Model family.
    public var architecture: ModelArchitecture
    /// Architecture hyper-parameters (FuxiCTR/BARS defaults).
    public var hyperparameters = ModelHyperparameters()
    /// Adam settings (lr 1e-3, embedding L2 1e-5).
    public var optimizer = AdamOptimizer.Configuration()
    /// Maximum passes over the training data.
    public var epochs = 10
    /// Rows per step. BARS uses 10,000; 2,048 gives ~5× more updates per pass at similar CPU cost per row.
    public var batchSize = 2048
    /// Seed for weight initialisation (data order is the file's).
    public var seed: UInt64 = 2024
    /// Minimum count for a categorical value to get its own id (Criteo_x4: 10).
    public var minCount = 10
    /// How integer fields are embedded (Criteo_x4 treats the transformed integers as categories: buckets).
    public var denseEncoding = DenseEncoding.buckets
    /// Use at most this many training rows (nil: all).
    public var maxRows: Int?
    /// Stop after this many epochs in a row without a better monitored metric (FuxiCTR `early_stop_patience`: 2).
    public var patience = 2
    /// What decides the best epoch: validation AUC (FuxiCTR's default), logloss, or a weighted sum.
    public var monitor = TrainingMonitor.auc
    /// Visit the training rows in a new (seeded) order every epoch, FuxiCTR's `shuffle: true`; done in memory, so
    /// only when the encoded rows take at most `shuffleMemoryLimitBytes` (otherwise the file's order every epoch).
    public var shuffle = true
    /// The most memory the encoded training rows may take for shuffling (default 2 GiB).
    public var shuffleMemoryLimitBytes = 2 << 30
    /// The FuxiCTR model config and experiment the settings came from, when they did (`FILE (experiment ID)`).
    public var modelConfigSource: String?
    /// Divide the learning rate by 10 after every epoch that does not improve the monitored metric (FuxiCTR: on).
    public var reduceLearningRateOnPlateau = true
    /// Threads for BLAS and row-split work.
    public var threads = 2
    /// Without a validation file, every `holdoutEvery`-th training row is held out for validation.
    public var holdoutEvery = 10
    /// Rows used for validation at most (nil: all); keeps per-epoch evaluation bounded on huge files.
    public var maxValidationRows: Int?

    /// A configuration with FuxiCTR/BARS defaults for `architecture`.
    public init(architecture: ModelArchitecture) {
        self.architecture = architecture
    }

    private enum CodingKeys: String, CodingKey {
        case architecture, hyperparameters, optimizer, epochs, batchSize, seed, minCount, denseEncoding, maxRows
        case patience, threads, holdoutEvery, maxValidationRows, monitor, reduceLearningRateOnPlateau, modelConfigSource, shuffle
    }

    /// Decodes a configuration; one written before `denseEncoding` existed trained numeric embeddings.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        architecture = try c.decode(ModelArchitecture.self, forKey: .architecture)
        hyperparameters = try c.decode(ModelHyperparameters.self, forKey: .hyperparameters)
        optimizer = try c.decode(AdamOptimizer.Configuration.self, forKey: .optimizer)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        seed = try c.decode(UInt64.self, forKey: .seed)
        minCount = try c.decode(Int.self, forKey: .minCount)
        denseEncoding = try c.decodeIfPresent(DenseEncoding.self, forKey: .denseEncoding) ?? .numeric
        maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows)
        patience = try c.decode(Int.self, forKey: .patience)
        threads = try c.decode(Int.self, forKey: .threads)
        holdoutEvery = try c.decode(Int.self, forKey: .holdoutEvery)
        maxValidationRows = try c.decodeIfPresent(Int.self, forKey: .maxValidationRows)
        // model.json written before the FuxiCTR schedule kept the last AUC-best epoch and a constant learning rate.
        monitor = try c.decodeIfPresent(TrainingMonitor.self, forKey: .monitor) ?? .auc
        reduceLearningRateOnPlateau = try c.decodeIfPresent(Bool.self, forKey: .reduceLearningRateOnPlateau) ?? false
        modelConfigSource = try c.decodeIfPresent(String.self, forKey: .modelConfigSource)
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? false
    }

    /// Checks ranges; the message names the offending option.
    public func validate() throws(CTRModelsError) {
        if epochs < 1 { throw .invalidConfiguration("epochs must be at least 1 (got \(epochs))") }
        if batchSize < 1 { throw .invalidConfiguration("batch size must be at least 1 (got \(batchSize))") }
        if !(optimizer.learningRate > 0 && optimizer.learningRate.isFinite) {
            throw .invalidConfiguration("learning rate must be a positive number (got \(optimizer.learningRate))")
        }
        if optimizer.embeddingL2 < 0 { throw .invalidConfiguration("embedding L2 must not be negative") }
        if minCount < 1 { throw .invalidConfiguration("min count must be at least 1 (got \(minCount))") }
        if let maxRows, maxRows < 1 { throw .invalidConfiguration("max rows must be at least 1 (got \(maxRows))") }
        if patience < 0 { throw .invalidConfiguration("patience must not be negative") }
        if threads < 1 { throw .invalidConfiguration("threads must be at least 1 (got \(threads))") }
        if holdoutEvery < 2 { throw .invalidConfiguration("holdout-every must be at least 2 (got \(holdoutEvery))") }
        let h = hyperparameters
        if h.embeddingDimension < 1 { throw .invalidConfiguration("embedding dimension must be at least 1") }
        if (h.hiddenUnits + h.autoIntHiddenUnits).contains(where: { $0 < 1 }) {
            throw .invalidConfiguration("hidden units must be positive")
        }
        if architecture == .autoint {
            if h.attentionHeads < 1 || h.attentionDimension % h.attentionHeads != 0 {
                throw .invalidConfiguration(
                    "attention dimension \(h.attentionDimension) must be a positive multiple of the heads \(h.attentionHeads)")
            }
        }
    }
}

/// How a model embeds the integer fields; the ONNX input (`dense` [B,13]) is the same either way.
public enum DenseEncoding: String, Codable, Sendable, CaseIterable {
    /// One embedding row per transformed integer value and field (``DenseBuckets``).
    case buckets
    /// FuxiCTR's numeric embedding: the scaled value times one vector per field.
    case numeric
}
