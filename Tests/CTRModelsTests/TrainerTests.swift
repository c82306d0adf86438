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

/// `ModelBundleReader` (behind `clickwise export ranking`): a bundle read back predicts as the model that wrote it.
@Suite("A bundle reads back into the model that wrote it")
struct ModelBundleReaderTests {
    @Test(arguments: [("deepfm", true), ("autoint+", true), ("dcnv2", false), ("lr", false)])
    func readsBack(variant: String, batchNorm: Bool) throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.tsv")
        try TinyCriteo.write(rows: 1500, seed: 1, to: train)
        var configuration = TrainerTests.configuration(variant == "lr" ? .lr : variant == "dcnv2" ? .dcnv2 : variant == "deepfm" ? .deepfm : .autoint)
        configuration.epochs = 1
        configuration.hyperparameters.batchNorm = batchNorm
        if variant == "autoint+" { configuration.hyperparameters.autoIntHiddenUnits = [12, 6] }
        let outcome = try Trainer(configuration: configuration, trainPath: train.path, validationPath: nil).run { _ in }
        let bundle = directory.appendingPathComponent("bundle")
        try ModelBundleWriter.write(outcome, to: bundle)
        let loaded = try ModelBundleReader.read(bundle)
        #expect(loaded.model.architecture == outcome.model.architecture)
        #expect(loaded.featureMap.fingerprint == outcome.featureMap.fingerprint)
        let shape = outcome.model.shape, count = 200
        var generator = SeededGenerator(seed: 5)
        let ids = (0..<(count * shape.sparseFields)).map { _ in Int64(generator.next() % UInt64(shape.vocabularySize)) }
        let dense = (0..<(count * shape.denseFields)).map { _ in Float(generator.nextUnit() * 1.5 - 0.2) }
        outcome.model.setTraining(false)
        let expected = outcome.model.predict(ids: ids, dense: dense, count: count)
        let actual = loaded.model.predict(ids: ids, dense: dense, count: count)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 1
        // Batch normalization comes back folded into its layer: the same function, rounded differently.
        #expect(worst < (batchNorm ? 1e-5 : 1e-7), "\(variant): \(worst)")
        #expect((expected.max() ?? 0) - (expected.min() ?? 0) > 1e-3)
    }

    @Test func refusesWhatItCannotRead() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: CTRModelsError.self) { try ModelBundleReader.read(directory) }
    }
}
