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
    /// AutoInt's parallel DNN over the flattened embeddings, AutoInt+ when not empty (FuxiCTR `dnn_hidden_units`).
    public var autoIntHiddenUnits: [Int] = []

    /// Dropout after each hidden DNN layer while training (FuxiCTR `net_dropout`, 0 by default).
    public var netDropout: Float = 0
    /// Batch normalization after each hidden DNN layer's affine map (FuxiCTR `batch_norm`, off by default).
    public var batchNorm = false
    /// AutoInt: layer normalization after each attention layer's residual sum (FuxiCTR `layer_norm`, off by default).
    public var layerNorm = false

    /// DCNv2: cross layers (FuxiCTR `num_cross_layers`: 3).
    public var crossLayers = 3
    /// DCNv2: where the DNN sits (FuxiCTR `model_structure`, default parallel); its parallel DNN is `hiddenUnits`.
    public var crossStructure = DCNv2.Structure.parallel
    /// DCNv2: the DNN stacked on the cross network (FuxiCTR `stacked_dnn_hidden_units`).
    public var stackedHiddenUnits: [Int] = []

    /// The FuxiCTR/BARS defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case embeddingDimension, hiddenUnits, attentionLayers, attentionHeads, attentionDimension
        case useResidual, useScale, useWide, autoIntHiddenUnits, netDropout, batchNorm, layerNorm
        case crossLayers, crossStructure, stackedHiddenUnits
    }

    /// Decodes hyper-parameters; model.json written before AutoInt+ existed has no DNN.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        embeddingDimension = try c.decode(Int.self, forKey: .embeddingDimension)
        hiddenUnits = try c.decode([Int].self, forKey: .hiddenUnits)
        attentionLayers = try c.decode(Int.self, forKey: .attentionLayers)
        attentionHeads = try c.decode(Int.self, forKey: .attentionHeads)
        attentionDimension = try c.decode(Int.self, forKey: .attentionDimension)
        useResidual = try c.decode(Bool.self, forKey: .useResidual)
        useScale = try c.decode(Bool.self, forKey: .useScale)
        useWide = try c.decode(Bool.self, forKey: .useWide)
        autoIntHiddenUnits = try c.decodeIfPresent([Int].self, forKey: .autoIntHiddenUnits) ?? []
        netDropout = try c.decodeIfPresent(Float.self, forKey: .netDropout) ?? 0
        batchNorm = try c.decodeIfPresent(Bool.self, forKey: .batchNorm) ?? false
        layerNorm = try c.decodeIfPresent(Bool.self, forKey: .layerNorm) ?? false
        crossLayers = try c.decodeIfPresent(Int.self, forKey: .crossLayers) ?? 3
        crossStructure = try c.decodeIfPresent(DCNv2.Structure.self, forKey: .crossStructure) ?? .parallel
        stackedHiddenUnits = try c.decodeIfPresent([Int].self, forKey: .stackedHiddenUnits) ?? []
    }
}
