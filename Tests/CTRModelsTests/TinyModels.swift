@testable import CTRModels

/// Small models and batches shared by the model-level tests.
enum TinyModels {
    static let shape = ModelShape(vocabularySize: 40, sparseFields: 3, denseFields: 2)
    /// The same geometry with bucketed dense fields (scales 2 and 3: 5 and 6 buckets).
    static let bucketShape = ModelShape(vocabularySize: 40, sparseFields: 3, denseFields: 2,
                                        denseBuckets: DenseBuckets(scales: [2, 3]))

    static var hyperparameters: ModelHyperparameters {
        var h = ModelHyperparameters()
        h.embeddingDimension = 4
        h.hiddenUnits = [6, 5]
        h.attentionLayers = 2
        h.attentionHeads = 2
        h.attentionDimension = 4
        h.useWide = true
        h.useScale = true
        return h
    }

    static func make(
        _ architecture: ModelArchitecture, encoding: DenseEncoding = .numeric, maxBatch: Int = 8, seed: UInt64 = 1
    ) -> any CTRModel {
        let shape = encoding == .buckets ? bucketShape : shape
        return switch architecture {
        case .deepfm: DeepFM(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .autoint: AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .lr: LogisticRegression(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        }
    }

    /// Random ids, dense values and labels for `rows` rows.
    static func batch(rows: Int, seed: UInt64) -> (ids: [Int64], dense: [Float], labels: [Float]) {
        var generator = SeededGenerator(seed: seed)
        let ids = (0..<(rows * shape.sparseFields)).map { _ in Int64(generator.next() % UInt64(shape.vocabularySize)) }
        // Mostly in [-0.5, 1.5) (every bucket, and beyond the largest), every seventh value missing (-2).
        let dense = (0..<(rows * shape.denseFields)).map { i in i % 7 == 3 ? -2 : Float(generator.nextUnit() * 2 - 0.5) }
        let labels = (0..<rows).map { _ in generator.nextUnit() < 0.4 ? Float(1) : 0 }
        return (ids, dense, labels)
    }

    /// Scales every value up so that gradients are far from zero (FuxiCTR's 1e-4 init is too flat to test).
    static func randomize(_ model: any CTRModel, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for parameter in model.parameters { parameter.fillNormal(std: 0.4, using: &generator) }
        for table in model.embeddingTables { table.fillNormal(std: 0.4, using: &generator) }
    }
}
