import ClickwiseTestSupport
import CTRModels
import Foundation
import ONNXRuntime
import Synchronization
import Testing
@testable import CTRServing

@Suite("Pooled sessions share one copy of the weights", .serialized)
struct SharedWeightsTests {
    static let root: String = {
        let path = NSTemporaryDirectory() + "clickwise-shared-weights-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A Criteo-shaped bundle (the shipped features.json) whose model has `rows` embedding rows; rows past the
    /// vocabulary are never looked up, they only make the table big. `externalData` forces ONNX external data.
    static func makeBundle(_ name: String, rows: Int, externalData: Bool = false, hidden: [Int] = [64]) throws -> String {
        let directory = root + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let features = directory + "/features.json"
        if !FileManager.default.fileExists(atPath: features) {
            try FileManager.default.copyItem(atPath: ServeProcess.packageRoot + "/models/deepfm/1/features.json", toPath: features)
        }
        var hyperparameters = ModelHyperparameters()
        hyperparameters.hiddenUnits = hidden
        let model = DeepFM(shape: ModelShape(vocabularySize: rows, sparseFields: 26, denseFields: 13),
                           hyperparameters: hyperparameters, maxBatch: 1, seed: 11)
        var generator = SeededGenerator(seed: 12)
        for table in model.embeddingTables { table.fillNormal(std: 0.3, using: &generator) }
        for parameter in model.parameters { parameter.fillNormal(std: 0.2, using: &generator) }
        var options = ONNXExporter.Options()
        options.externalDataAbove = externalData ? 0 : nil
        try ONNXExporter.write(model, options: options, to: URL(fileURLWithPath: directory + "/model.onnx"))
        return directory
    }

    /// Resident memory of `clickwise serve` once it is ready (warm-up done).
    static func servedRSS(_ bundle: String, _ flags: [String]) throws -> Double {
        let process = try ServeProcess.clickwise(["serve", "--port", "0", "--model", bundle] + flags)
        defer { process.stop() }
        try process.waitForLine(timeout: 120) { $0.hasPrefix("ready") }
        let status = try String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Double(line.split(separator: " ").dropFirst().first ?? ""))
        return kilobytes / 1024
    }

    @Test("a pool of 12 over a 70 MB table costs at most 1.5x a pool of 1; without sharing it costs many times more")
    func poolMemory() throws {
        // 1.1M rows x 16 floats = 70 MB: the weights dominate a pool of one.
        let bundle = try Self.makeBundle("big", rows: 1_100_000)
        let one = try Self.servedRSS(bundle, ["--pool-size", "1"])
        let twelve = try Self.servedRSS(bundle, ["--pool-size", "12"])
        let copies = try Self.servedRSS(bundle, ["--pool-size", "12", "--no-share-weights"])
        #expect(one > 70, "pool of 1: \(one) MiB; the table alone is 70 MB")
        #expect(twelve <= one * 1.5, "pool of 12 with shared weights: \(twelve) MiB vs \(one) MiB for one session")
        // The measurement can see copies: twelve private tables are 11 x 70 MB more.
        #expect(copies >= one + 11 * 60, "pool of 12 without sharing: \(copies) MiB vs \(one) MiB for one session")
    }

    static func predictions(_ directory: String, poolSize: Int, environment: ORTEnvironment) throws -> [Float] {
        let bundle = try ModelBundle(directory: directory, name: "m", version: "1")
        var configuration = PoolConfiguration()
        configuration.poolSize = poolSize
        let pool = try ModelPool(bundle: bundle, configuration: configuration, environment: environment,
                                   metrics: ServingMetrics(routes: []))
        defer { pool.shutdown() }
        let rows = 200
        let result = Mutex<[Float]?>(nil)
        let done = DispatchSemaphore(value: 0)
        let job = try #require(pool.encoding).makeJob(rows: rows) { outcome in
            if case .success(let outputs) = outcome { result.withLock { $0 = Array(outputs[0].floats) } }
            done.signal()
        }
        var generator = SeededGenerator(seed: 3)
        // Ids inside the shipped vocabulary (2221 ids), dense values around the data's scale.
        let ids = job.inputs[0].elements(Int64.self), dense = job.inputs[1].elements(Float.self)
        for index in 0..<(rows * 26) { ids[index] = Int64(generator.next() % 2221) }
        for index in 0..<(rows * 13) { dense[index] = Float(generator.nextUnit() * 4 - 1) }
        try pool.submit(job)
        #expect(done.wait(timeout: .now() + 30) == .success)
        return try #require(result.withLock { $0 })
    }

    @Test("a bundle exported with external data serves the inline bundle's predictions, alone and pooled")
    func externalDataServes() throws {
        let inline = try Self.makeBundle("inline", rows: 5_000, hidden: [32])
        let external = try Self.makeBundle("external", rows: 5_000, externalData: true, hidden: [32])
        #expect(FileManager.default.fileExists(atPath: external + "/model.onnx.data"))
        let environment = try ORTEnvironment.make(runtime: try ORTRuntime.load())
        let expected = try Self.predictions(inline, poolSize: 1, environment: environment)
        #expect(((expected.max() ?? 0) - (expected.min() ?? 0)) > 0.05, "predictions must vary: \(expected.prefix(5))")
        #expect(try Self.predictions(external, poolSize: 1, environment: environment) == expected)
        #expect(try Self.predictions(external, poolSize: 3, environment: environment) == expected)
        #expect(try Self.predictions(inline, poolSize: 3, environment: environment) == expected)
    }
}
