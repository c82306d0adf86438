import Testing
@testable import CTRModels

/// Pins the exported bytes of models without sequence fields, so new input kinds cannot change old exports.
///
/// Weights are set from an integer formula (exact in binary) rather than drawn, so the bytes do not depend
/// on the platform's `log`/`cos`; the digests were recorded with the exporter before sequence fields existed.
@Suite("Exports of models without sequence fields stay byte-identical")
struct ExportDigestTests {
    static let shape = ModelShape(vocabularySize: 50, sparseFields: 4, denseFields: 3)
    static let bucketShape = ModelShape(vocabularySize: 50, sparseFields: 4, denseFields: 3,
                                        denseBuckets: DenseBuckets(scales: [2, 3.5, 7]))

    static func model(_ name: String) -> any CTRModel {
        var hyperparameters = ModelHyperparameters()
        hyperparameters.embeddingDimension = 4
        hyperparameters.hiddenUnits = [6, 5]
        hyperparameters.attentionLayers = 2
        hyperparameters.attentionDimension = 4
        hyperparameters.attentionHeads = 2
        switch name {
        case "deepfm": return DeepFM(shape: shape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        case "deepfm-buckets": return DeepFM(shape: bucketShape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        case "autoint": return AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        case "autoint+":
            hyperparameters.useWide = true
            hyperparameters.useScale = true
            hyperparameters.autoIntHiddenUnits = [7, 3]
            return AutoInt(shape: bucketShape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        case "lr": return LogisticRegression(shape: shape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        default: return LogisticRegression(shape: bucketShape, hyperparameters: hyperparameters, maxBatch: 4, seed: 1)
        }
    }

    /// FNV-1a, 64 bit: enough to notice any changed byte.
    static func digest(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static let expected: [String: UInt64] = [
        "deepfm": 0x94e6_39a5_287b_ac2d, "deepfm-buckets": 0xaa2a_184b_613d_58b1, "autoint": 0xc6bc_c5a0_c732_a332,
        "autoint+": 0x37aa_6edd_24b4_2528, "lr": 0xd3fc_b2d1_b969_8671, "lr-buckets": 0x7b7f_727f_34c5_3159,
    ]

    @Test(arguments: ["deepfm", "deepfm-buckets", "autoint", "autoint+", "lr", "lr-buckets"])
    func exportIsUnchanged(name: String) {
        let model = Self.model(name)
        var k = 0
        for buffer in model.parameters.map(\.value) + model.embeddingTables.map(\.value) {
            for i in 0..<buffer.count {
                k += 1
                buffer[i] = Float((k * 7919) % 201 - 100) / 256
            }
        }
        let digest = Self.digest(ONNXExporter.export(model))
        #expect(digest == Self.expected[name])
    }
}
