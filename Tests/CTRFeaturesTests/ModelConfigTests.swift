import CTRFeatures
import Foundation
import Testing

/// Issue 22: FuxiCTR's model_config.yaml read as FuxiCTR reads it.
@Suite("FuxiCTR model configs")
struct ModelConfigTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs/movielens/model_config.yaml")

    @Test func bARSDeepFMExperimentReadsOverBase() throws {
        let config = try ModelConfig(contentsOf: Self.shipped, experimentID: "DeepFM_frappe_x1_001")
        #expect(config.model == "DeepFM")
        #expect(config.datasetID == "ml100k_x1")
        #expect(config.embeddingDimension == 10)
        #expect(config.hiddenUnits == [400, 400, 400])
        #expect(config.netDropout == 0.2 && config.batchNorm == true)
        #expect(config.embeddingRegularizer == 0.05 && config.netRegularizer == 0)
        #expect(config.learningRate == 0.001 && config.batchSize == 4096 && config.epochs == 100)
        #expect(config.patience == 2)  // the experiment's `patience` over Base's `early_stop_patience`, same value
        #expect(config.monitor == .init(auc: 1, logLoss: 0))
        #expect(config.seed == 2021)
    }

    @Test func fuxiCTR2SpellingsWeightedMonitorsAndRegularizerStrings() throws {
        let yaml = """
            Base: {early_stop_patience: 3, embedding_regularizer: "1e-5"}
            x:
              model: AutoInt
              dnn_hidden_units: [64, 32]
              dnn_activations: relu
              monitor: {AUC: 1, logloss: -1}
              attention_layers: 2
              num_heads: 4
              attention_dim: 32
              use_scale: true
              gpu: -1
            y:
              model: DeepFM
              monitor: logloss
              monitor_mode: min
            """
        let x = try ModelConfig(yaml: yaml, path: "m.yaml", experimentID: "x")
        #expect(x.patience == 3 && x.embeddingRegularizer == 1e-5)
        #expect(x.hiddenUnits == [64, 32])
        #expect(x.monitor == .init(auc: 1, logLoss: -1))
        #expect(x.attentionHeads == 4 && x.attentionDimension == 32 && x.useScale == true)
        let y = try ModelConfig(yaml: yaml, path: "m.yaml", experimentID: "y")
        #expect(y.monitor == .init(auc: 0, logLoss: -1))
    }

    @Test(arguments: [
        ("x: {model: DeepFM, hiden_units: [8]}", "x", "hiden_units", "did you mean hidden_units?"),
        ("x: {model: DeepFM, optimizer: sgd}", "x", "optimizer", "Adam"),
        ("x: {model: DeepFM, hidden_activations: tanh}", "x", "hidden_activations", "ReLU"),
        ("x: {model: DeepFM, monitor: {gAUC: 1}}", "x", "monitor", "gAUC"),
        ("x: {model: DeepFM, net_dropout: 1.5}", "x", "net_dropout", "0.99"),
        ("x: {model: DeepFM, embedding_regularizer: [[1, 1e-5]]}", "x", "embedding_regularizer", "L2"),
        ("x: {model: DeepFM}\ny: {model: LR}", "z", "unknown experiment", "no experiment z"),
        ("x: {hidden_units: [8]}", "x", "model", "missing"),
    ])
    func errorsNameTheFileTheExperimentAndTheKey(yaml: String, experiment: String, key: String, fragment: String) {
        #expect {
            try ModelConfig(yaml: yaml, path: "m.yaml", experimentID: experiment)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("m.yaml") && text.contains(key) && text.contains(fragment) && !text.contains("\n")
        }
    }

    @Test func severalExperimentsNeedAnID() {
        #expect(throws: ModelConfigError.self) { try ModelConfig(contentsOf: Self.shipped) }
        #expect(throws: ModelConfigError.self) { try ModelConfig(contentsOf: URL(fileURLWithPath: "/nonexistent/m.yaml")) }
    }
}
