/// Architecture hyper-parameters; defaults are FuxiCTR/BARS Criteo_x4 values (see each property).
public struct ModelHyperparameters: Codable, Sendable, Equatable {
    /// Field embedding width (FuxiCTR Criteo_x4: 16).
    public var embeddingDimension = 16
    /// DeepFM DNN hidden layers (BARS DeepFM_criteo_x4_001: [400, 400, 400], ReLU).
    public var hiddenUnits = [400, 400, 400]
    /// AutoInt interacting layers (FuxiCTR AutoInt: 3).
    public var attentionLayers = 3
    /// AutoInt heads per layer (2).
    public var attentionHeads = 2
    /// AutoInt attention width, all heads together (64).
    public var attentionDimension = 64
    /// AutoInt residual connections (FuxiCTR `use_residual: True`).
    public var useResidual = true
    /// AutoInt score scaling by √head_dim (FuxiCTR `use_scale: False`).
    public var useScale = false
    /// AutoInt adds the linear part to its logit (FuxiCTR `use_wide: False`).
    public var useWide = false

    /// The FuxiCTR/BARS defaults.
    public init() {}
}
