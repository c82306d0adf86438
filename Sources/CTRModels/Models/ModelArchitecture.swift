/// The model families Clickwise trains.
public enum ModelArchitecture: String, Codable, Sendable, CaseIterable {
    /// DeepFM: linear + FM + DNN over shared field embeddings.
    case deepfm
    /// AutoInt: stacked multi-head self-attention over field embeddings.
    case autoint
    /// Logistic regression: the linear part only (baseline).
    case lr
    /// DCNv2: a cross network over the flattened embeddings with a DNN (parallel by default).
    case dcnv2
}
