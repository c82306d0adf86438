extension ModelArchitecture {
    /// A freshly initialised model of this architecture.
    public func makeModel(
        shape: ModelShape, hyperparameters: ModelHyperparameters = .init(), maxBatch: Int, seed: UInt64
    ) -> any CTRModel {
        switch self {
        case .deepfm: DeepFM(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .autoint: AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .lr: LogisticRegression(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .dcnv2: DCNv2(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        }
    }
}
