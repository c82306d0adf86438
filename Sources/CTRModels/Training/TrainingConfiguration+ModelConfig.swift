import CTRFeatures

extension TrainingConfiguration {
    /// The architecture a FuxiCTR model class name stands for (`AutoInt` with `dnn_hidden_units` is AutoInt+).
    public static func architecture(of config: ModelConfig) throws(CTRModelsError) -> ModelArchitecture {
        switch config.model.lowercased() {
        case "deepfm": return .deepfm
        case "autoint", "autoint+", "autointplus": return .autoint
        case "lr", "logisticregression": return .lr
        case "dcnv2", "dcn_v2", "dcn-v2": return .dcnv2
        default:
            throw .invalidConfiguration("\(config.path): experiment \(config.experimentID): model: \(config.model) is not trained here (DeepFM, AutoInt, DCNv2, LR)")
        }
    }

    /// A configuration from a FuxiCTR experiment: Clickwise's defaults, overridden by every setting the file gives.
    ///
    /// `embedding_regularizer` takes FuxiCTR's meaning (L2 over whole tables, every step) and turns the lazy
    /// per-batch L2 off; `hidden_units`/`dnn_hidden_units` go to DeepFM's DNN or AutoInt+'s.
    public init(modelConfig config: ModelConfig) throws(CTRModelsError) {
        self.init(architecture: try Self.architecture(of: config))
        modelConfigSource = "\(config.path) (experiment \(config.experimentID))"
        func refuse(_ key: String, _ detail: String) -> CTRModelsError {
            .invalidConfiguration("\(config.path): experiment \(config.experimentID): \(key): \(detail)")
        }
        if let value = config.embeddingDimension { hyperparameters.embeddingDimension = value }
        if let units = config.hiddenUnits {
            if architecture == .autoint { hyperparameters.autoIntHiddenUnits = units } else { hyperparameters.hiddenUnits = units }
        }
        if let value = config.netDropout { hyperparameters.netDropout = Float(value) }
        if let value = config.batchNorm { hyperparameters.batchNorm = value }
        if let value = config.embeddingRegularizer {
            optimizer.embeddingRegularizer = Float(value)
            optimizer.embeddingL2 = 0
        }
        if let value = config.netRegularizer { optimizer.weightL2 = Float(value) }
        if let value = config.learningRate { optimizer.learningRate = Float(value) }
        if let value = config.batchSize { batchSize = value }
        if let value = config.epochs { epochs = value }
        if let value = config.patience { patience = value }
        if let weights = config.monitor { monitor = TrainingMonitor(aucWeight: weights.auc, logLossWeight: weights.logLoss) }
        if let value = config.seed { seed = value }
        if let value = config.reduceLearningRateOnPlateau { reduceLearningRateOnPlateau = value }
        if let value = config.shuffle { shuffle = value }
        if let value = config.attentionLayers { hyperparameters.attentionLayers = value }
        if let value = config.attentionHeads { hyperparameters.attentionHeads = value }
        if let value = config.attentionDimension { hyperparameters.attentionDimension = value }
        if let value = config.useResidual { hyperparameters.useResidual = value }
        if let value = config.useScale { hyperparameters.useScale = value }
        if let value = config.useWide { hyperparameters.useWide = value }
        if let value = config.layerNorm { hyperparameters.layerNorm = value }
        if architecture == .dcnv2 {
            if config.useLowRankMixture == true {
                throw refuse("use_low_rank_mixture", "true is not supported: DCNv2 trains its full-rank cross network (CrossNetV2)")
            }
            if let text = config.modelStructure {
                guard let structure = DCNv2.Structure(rawValue: text) else {
                    throw refuse("model_structure", "\(text): expected crossnet_only, stacked, parallel or stacked_parallel")
                }
                hyperparameters.crossStructure = structure
            }
            if let value = config.crossLayers { hyperparameters.crossLayers = value }
            if let units = config.parallelHiddenUnits { hyperparameters.hiddenUnits = units }
            if let units = config.stackedHiddenUnits { hyperparameters.stackedHiddenUnits = units }
            let h = hyperparameters
            if (h.crossStructure == .parallel || h.crossStructure == .stackedParallel) && h.hiddenUnits.isEmpty {
                throw refuse("parallel_dnn_hidden_units", "the \(h.crossStructure.rawValue) structure needs at least one layer")
            }
            if (h.crossStructure == .stacked || h.crossStructure == .stackedParallel) && h.stackedHiddenUnits.isEmpty {
                throw refuse("stacked_dnn_hidden_units", "the \(h.crossStructure.rawValue) structure needs at least one layer")
            }
        }
        do {
            try validate()
        } catch {
            throw refuse("settings", "\(error)")
        }
    }
}
