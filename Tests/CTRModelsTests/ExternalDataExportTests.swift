import Foundation
import ONNXRuntime
import Testing
@testable import CTRModels

@Suite("A model exported with ONNX external data runs like the inline one")
struct ExternalDataExportTests {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "clickwise-external-\(getpid())"
        for sub in ["inline", "external"] {
            try? FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
        }
        return path
    }()

    static func predict(_ path: String, shared: ORTSharedInitializers? = nil) throws -> [Float] {
        let environment = ONNXExportTests.environment
        let options = try ORTSessionOptions(runtime: environment.runtime)
        try options.setIntraOpThreads(1)
        if let shared { try options.addInitializers(shared) }
        let session = try ORTSession(path: path, options: options, environment: environment)
        let count = 300
        let (ids, dense, _) = ONNXExportTests.rows(count, seed: 21)
        let outputs = try session.run(["sparse_ids": try ORTValue(ids, shape: [Int64(count), 26], environment: environment),
                                       "dense": try ORTValue(dense, shape: [Int64(count), 13], environment: environment)])
        return try #require(outputs["probability"]).array(of: Float.self)
    }

    @Test("forced external data: a small model.onnx, a 4096-aligned side file, the same predictions (ORT's loader and shared weights)")
    func sameOutputs() throws {
        let model = DeepFM(shape: ONNXExportTests.bucketShape, hyperparameters: ModelHyperparameters(), maxBatch: 8, seed: 5)
        TinyModels.randomize(model, seed: 6)
        let inline = Self.directory + "/inline/model.onnx"
        let external = Self.directory + "/external/model.onnx"
        try ONNXExporter.write(model, options: .init(), to: URL(fileURLWithPath: inline))
        var options = ONNXExporter.Options()
        options.externalDataAbove = 0
        try ONNXExporter.write(model, options: options, to: URL(fileURLWithPath: external))

        let inlineSize = try #require(FileManager.default.attributesOfItem(atPath: inline)[.size] as? Int)
        let externalSize = try #require(FileManager.default.attributesOfItem(atPath: external)[.size] as? Int)
        #expect(FileManager.default.fileExists(atPath: external + ".data"))
        #expect(!FileManager.default.fileExists(atPath: inline + ".data"))
        #expect(externalSize * 50 < inlineSize, "model.onnx \(externalSize) bytes with external data vs \(inlineSize) inline")
        let file = try ONNXModelFile(path: external)
        var externalCount = 0
        for initializer in file.initializers {
            if case let .external(location, offset, _) = initializer.storage {
                #expect(location == "model.onnx.data" && offset % 4096 == 0, "\(initializer.name) at \(offset) in \(location)")
                externalCount += 1
            }
        }
        #expect(externalCount >= 5)

        let expected = try Self.predict(inline)
        let spread = (expected.max() ?? 0) - (expected.min() ?? 0)
        #expect(spread > 0.05, "the predictions must vary for the comparison to mean anything")
        // ONNX Runtime's own external-data loading, relative to the model's directory.
        #expect(try Self.predict(external) == expected)
        let environment = ONNXExportTests.environment
        let mapped = try ORTSharedInitializers(modelPath: external, environment: environment, minimumBytes: 0)
        #expect(mapped.entries.filter(\.mapped).count == externalCount, "external tensors are mapped in place, not copied")
        #expect(try Self.predict(external, shared: mapped) == expected)
        let copied = try ORTSharedInitializers(modelPath: inline, environment: environment, minimumBytes: 0)
        #expect(copied.entries.count == file.initializers.count && copied.entries.allSatisfy { !$0.mapped })
        #expect(try Self.predict(inline, shared: copied) == expected)
    }

    @Test("a missing external data file is an error naming it")
    func missingDataFile() throws {
        let model = DeepFM(shape: ONNXExportTests.shape, hyperparameters: ModelHyperparameters(), maxBatch: 8, seed: 5)
        let path = Self.directory + "/external/missing.onnx"
        var options = ONNXExporter.Options()
        options.externalDataAbove = 0
        try ONNXExporter.write(model, options: options, to: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path + ".data")
        do {
            _ = try ORTSharedInitializers(modelPath: path, environment: ONNXExportTests.environment, minimumBytes: 0)
            Issue.record("a model without its data file was accepted")
        } catch {
            #expect(error.message.contains("missing.onnx.data"), "\(error.message)")
        }
    }
}
