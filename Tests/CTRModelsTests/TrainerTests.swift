import Foundation
import Testing
@testable import CTRModels

@Suite("Trainer learns the planted signal and writes a bundle")
struct TrainerTests {
    static func configuration(_ architecture: ModelArchitecture) -> TrainingConfiguration {
        var config = TrainingConfiguration(architecture: architecture)
        config.hyperparameters.embeddingDimension = 4
        config.hyperparameters.hiddenUnits = [16, 8]
        config.hyperparameters.attentionLayers = 2
        config.hyperparameters.attentionDimension = 8
        config.epochs = 3
        config.batchSize = 256
        config.minCount = 2
        config.optimizer.learningRate = 0.02
        return config
    }

    /// Every architecture with each integer encoding, except bucketed LR: the tiny file's 12 noise integer
    /// fields give LR ~300 bucket weights to fit from 3,000 rows, more than a unit test's data supports.
    @Test(arguments: [(ModelArchitecture.deepfm, DenseEncoding.buckets), (.deepfm, .numeric),
                      (.autoint, .buckets), (.autoint, .numeric), (.lr, .numeric)])
    func trainsAndWritesBundle(architecture: ModelArchitecture, encoding: DenseEncoding) throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.tsv"), valid = directory.appendingPathComponent("valid.tsv")
        try TinyCriteo.write(rows: 3000, seed: 1, to: train)
        let (labels, truth) = try TinyCriteo.write(rows: 1000, seed: 2, to: valid)
        let oracle = try #require(BinaryMetrics.auc(labels: labels, scores: truth))
        var configuration = Self.configuration(architecture)
        configuration.denseEncoding = encoding
        let trainer = try Trainer(configuration: configuration, trainPath: train.path, validationPath: valid.path)
        var events = 0
        let outcome = try trainer.run { _ in events += 1 }
        #expect(events >= 4)
        let card = outcome.card
        #expect(card.data.trainRows == 3000)
        #expect(card.data.validationRows == 1000)
        #expect(card.epochs.count >= 2)
        let auc = try #require(card.validationAUC)
        print("\(architecture) \(encoding): validation AUC \(auc), oracle \(oracle), epochs \(card.epochs.map { $0.validationAUC ?? 0 })")
        // LR cannot express the planted C1×C2 interaction, so every model gets the same generous margin.
        #expect(auc > oracle - 0.07)

        let bundle = directory.appendingPathComponent("bundle")
        try ModelBundleWriter.write(outcome, to: bundle)
        for file in ["model.onnx", "features.json", "model.json"] {
            #expect(FileManager.default.fileExists(atPath: bundle.appendingPathComponent(file).path))
        }
        let decoded = try ModelCard(contentsOf: bundle.appendingPathComponent("model.json"))
        #expect(decoded.architecture == architecture)
        #expect(decoded.featureMapFingerprint == outcome.featureMap.fingerprint)
        #expect(decoded.configuration == trainer.configuration)
    }

    @Test func holdsOutRowsWithoutValidationFile() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.tsv")
        try TinyCriteo.write(rows: 1000, seed: 3, to: train)
        var config = Self.configuration(.lr)
        config.epochs = 1
        config.maxRows = 500
        let outcome = try Trainer(configuration: config, trainPath: train.path).run()
        #expect(outcome.card.data.trainRows == 450)
        #expect(outcome.card.data.validationRows == 50)
    }

    @Test func sameSeedSameModel() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.tsv")
        try TinyCriteo.write(rows: 600, seed: 4, to: train)
        var config = Self.configuration(.autoint)
        config.epochs = 1
        let first = try Trainer(configuration: config, trainPath: train.path).run()
        let second = try Trainer(configuration: config, trainPath: train.path).run()
        #expect(ONNXExporter.export(first.model) == ONNXExporter.export(second.model))
        config.seed += 1
        let third = try Trainer(configuration: config, trainPath: train.path).run()
        #expect(ONNXExporter.export(first.model) != ONNXExporter.export(third.model))
    }

    @Test func unreadableFileIsOneClearError() {
        #expect(throws: CTRModelsError.self) {
            try Trainer(configuration: Self.configuration(.lr), trainPath: "/nonexistent/train.tsv")
        }
        do {
            _ = try Trainer(configuration: Self.configuration(.lr), trainPath: "/nonexistent/train.tsv")
        } catch {
            #expect(error.description.contains("/nonexistent/train.tsv"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func invalidConfigurationIsRejected() {
        var config = Self.configuration(.deepfm)
        config.batchSize = 0
        #expect(throws: CTRModelsError.self) { try config.validate() }
        config = Self.configuration(.autoint)
        config.hyperparameters.attentionDimension = 7
        #expect(throws: CTRModelsError.self) { try config.validate() }
    }
}
