import CTRData
import CTRFeatures
import Foundation
import Testing
@testable import CTRModels

@Suite("Evaluator and encoded-row export")
struct EvaluatorTests {
    @Test func reportsMetricsAndOracle() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data.tsv"), truthURL = directory.appendingPathComponent("data.tsv.truth")
        let (labels, truth) = try TinyCriteo.write(rows: 500, seed: 5, to: data)
        try truth.map { "\($0)" }.joined(separator: "\n").appending("\n").write(to: truthURL, atomically: true, encoding: .utf8)
        let map = FeatureMap.fit(try CriteoReader(path: data.path), minCount: 2)
        let model = ModelArchitecture.lr.makeModel(
            shape: ModelShape(vocabularySize: map.totalVocabularySize), maxBatch: 64, seed: 1)
        let report = try Evaluator.evaluate(dataPath: data.path, truthPath: truthURL.path, encoder: FeatureEncoder(map: map),
                                            predictor: SwiftModelPredictor(model: model), batchSize: 100)
        #expect(report.rows == 500)
        #expect(abs(report.positiveRate - Double(labels.reduce(0, +)) / 500) < 1e-9)
        #expect(report.oracleAUC == BinaryMetrics.auc(labels: labels, scores: truth))
        // Untrained weights are ~1e-4, so predictions sit at 0.5.
        #expect(abs(report.meanPrediction - 0.5) < 0.01)
    }

    /// Issue 21's crash: a predictor failing on a file longer than one batch once left the batch full, and the
    /// next rows were encoded past its end (SIGSEGV in the encoder). Now the first failure is the error.
    @Test func aFailingPredictorOnManyBatchesIsAnErrorNotAWritePastTheBatch() throws {
        struct Refusing: BatchPredictor {
            func predict(_ batch: BatchBuffer, into probabilities: UnsafeMutablePointer<Float>) throws {
                throw CTRModelsError.predictionFailed("the model takes 1 inputs, got 2")
            }
        }
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data.tsv")
        try TinyCriteo.write(rows: 1_000, seed: 8, to: data)
        let map = FeatureMap.fit(try CriteoReader(path: data.path), minCount: 1)
        #expect {
            try Evaluator.evaluate(dataPath: data.path, encoder: FeatureEncoder(map: map), predictor: Refusing(), batchSize: 16)
        } throws: { error in
            "\(error)".contains("the model takes 1 inputs, got 2")
        }
    }

    @Test func shortTruthFileIsAMismatch() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data.tsv"), truthURL = directory.appendingPathComponent("t")
        try TinyCriteo.write(rows: 50, seed: 6, to: data)
        try "0.5\n0.25\n".write(to: truthURL, atomically: true, encoding: .utf8)
        let map = FeatureMap.fit(try CriteoReader(path: data.path), minCount: 1)
        let model = ModelArchitecture.lr.makeModel(shape: ModelShape(vocabularySize: map.totalVocabularySize), maxBatch: 64, seed: 1)
        #expect(throws: CTRModelsError.self) {
            try Evaluator.evaluate(dataPath: data.path, truthPath: truthURL.path, encoder: FeatureEncoder(map: map),
                                   predictor: SwiftModelPredictor(model: model))
        }
    }

    @Test func npyHeaderIsAlignedAndDescribesTheArray() throws {
        let directory = TinyCriteo.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.npy").path
        try EncodedRowsWriter.writeNPY([Float(1), 2, 3, 4, 5, 6], descriptor: "<f4", shape: [2, 3], to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'shape': (2, 3)"))
        #expect(bytes.count == 10 + headerLength + 24)
    }
}
