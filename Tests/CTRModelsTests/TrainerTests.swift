import Foundation
import CTRFeatures
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

/// `train --warm-start` (issue 25 item 3): the child extends the parent's feature map and starts from its weights.
@Suite("Warm start keeps what the parent learned and adds what is new")
struct WarmStartTests {
    @Test(arguments: [ModelArchitecture.deepfm, .autoint, .lr])
    func childStartsFromTheParent(architecture: ModelArchitecture) throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first.tsv"), second = directory.appendingPathComponent("second.tsv")
        try TinyCriteo.write(rows: 1500, seed: 1, to: first)
        try TinyCriteo.write(rows: 1500, seed: 7, to: second)
        // New ads: every third row of the second file has one of five C1 values the first never had.
        let lines = try String(contentsOf: second, encoding: .utf8).split(separator: "\n").enumerated().map { index, line -> String in
            guard index % 3 == 0 else { return String(line) }
            var columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            columns[14] = "newad\(index % 5)"
            return columns.joined(separator: "\t")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: second, atomically: true, encoding: .utf8)
        var configuration = TrainerTests.configuration(architecture)
        configuration.epochs = 1
        let parentOutcome = try Trainer(configuration: configuration, trainPath: first.path).run()
        let parentDirectory = directory.appendingPathComponent("parent")
        try ModelBundleWriter.write(parentOutcome, to: parentDirectory)
        let parent = try ModelBundleReader.read(parentDirectory)

        // A learning rate too small to move a float32 weight: the child is the parent, transferred.
        var still = TrainingConfiguration(architecture: .lr)
        still.epochs = 1
        still.batchSize = 256
        still.minCount = 2
        still.optimizer.learningRate = 1e-30
        let child = try Trainer(configuration: still, dataset: .criteoPreset, trainPath: second.path, parent: parent).run()
        #expect(child.model.architecture == architecture, "the parent's architecture, whatever the configuration says")
        #expect(child.card.parent == ModelCard.Parent(featureMapFingerprint: parent.featureMap.fingerprint, path: parentDirectory.path))
        #expect(child.featureMap.fingerprint != parent.featureMap.fingerprint)
        // Every block starts with the parent's values, in order; the new file's values follow.
        for (mine, theirs) in zip(child.featureMap.vocabularies, parent.featureMap.vocabularies) {
            #expect(Array(mine.prefix(theirs.count)) == theirs)
        }
        #expect(child.featureMap.vocabularies[0].suffix(5).sorted() == (0..<5).map { "newad\($0)" }, "the new ads follow the parent's values")
        #expect(child.featureMap.denseScales == parent.featureMap.denseScales)

        // Rows made of values the parent knows score the same through either map.
        var generator = SeededGenerator(seed: 3)
        let rows = 100
        var raw: [RawRow] = []
        for _ in 0..<rows {
            let categorical = parent.featureMap.vocabularies.prefix(26).map { values -> String? in
                values.isEmpty ? nil : values[Int(generator.next() % UInt64(values.count))]
            }
            raw.append(RawRow(dense: (0..<13).map { _ in Double(generator.next() % 40) }, categorical: categorical))
        }
        func predict(_ model: any CTRModel, _ map: FeatureMap) -> [Float] {
            let encoder = FeatureEncoder(map: map)
            var ids = [Int64](repeating: 0, count: rows * 26), dense = [Float](repeating: 0, count: rows * 13)
            for (index, row) in raw.enumerated() {
                ids.withUnsafeMutableBufferPointer { i in
                    dense.withUnsafeMutableBufferPointer { d in encoder.encode(row, ids: i.baseAddress! + index * 26, dense: d.baseAddress! + index * 13) }
                }
            }
            model.setTraining(false)
            return model.predict(ids: ids, dense: dense, count: rows)
        }
        let before = predict(parent.model, parent.featureMap), after = predict(child.model, child.featureMap)
        let worst = zip(before, after).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-6, "\(architecture): \(worst)")
        #expect((before.max() ?? 0) - (before.min() ?? 0) > 1e-4)
    }

    @Test func refusesAParentItCannotContinue() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first.tsv")
        try TinyCriteo.write(rows: 600, seed: 1, to: first)
        var configuration = TrainerTests.configuration(.deepfm)
        configuration.epochs = 1
        configuration.hyperparameters.batchNorm = true
        let outcome = try Trainer(configuration: configuration, trainPath: first.path).run()
        try ModelBundleWriter.write(outcome, to: directory.appendingPathComponent("parent"))
        let parent = try ModelBundleReader.read(directory.appendingPathComponent("parent"))
        #expect { _ = try Trainer(configuration: configuration, dataset: .criteoPreset, trainPath: first.path, parent: parent) } throws: {
            "\($0)".contains("batch normalization")
        }
    }
}
