import Foundation
import Testing
@testable import CTRServing

@Suite("BatchQueue forms batches, bounds memory and drains")
struct BatchQueueTests {
    static func job(rows: Int, tag: Int = 0) -> InferenceJob {
        let job = InferenceJob(rows: rows, shapes: [[Int64(rows), 26], [Int64(rows), 13]], elementSizes: [8, 4]) { _ in }
        job.inputs[0].elements(Int64.self)[0] = Int64(tag)
        return job
    }

    static func tags(_ batch: [InferenceJob]) -> [Int64] { batch.map { $0.inputs[0].elements(Int64.self)[0] } }

    @Test("a full queue refuses the next job")
    func fullQueue() {
        let queue = BatchQueue<InferenceJob>(capacity: 2, maxRows: 1, maxDelayNanoseconds: 0)
        #expect(queue.submit(Self.job(rows: 1)) == .accepted)
        #expect(queue.submit(Self.job(rows: 1)) == .accepted)
        #expect(queue.submit(Self.job(rows: 1)) == .full)
        #expect(queue.depth == 2)
    }

    @Test("max batch 1 hands out one job per batch, in order (the plain pool)")
    func noBatching() {
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 1, maxDelayNanoseconds: 0)
        for tag in 0..<3 { _ = queue.submit(Self.job(rows: 1, tag: tag)) }
        var batch: [InferenceJob] = []
        for expected in 0..<3 {
            #expect(queue.nextBatch(into: &batch))
            #expect(Self.tags(batch) == [Int64(expected)])
        }
    }

    @Test("jobs are merged up to maxRows in arrival order; a job that does not fit waits for the next batch")
    func merging() {
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 8, maxDelayNanoseconds: 0)
        for (tag, rows) in [3, 4, 2, 5].enumerated() { _ = queue.submit(Self.job(rows: rows, tag: tag)) }
        var batch: [InferenceJob] = []
        #expect(queue.nextBatch(into: &batch))
        #expect(Self.tags(batch) == [0, 1])       // 3 + 4 = 7; + 2 would be 9 > 8
        #expect(queue.nextBatch(into: &batch))
        #expect(Self.tags(batch) == [2, 3])       // 2 + 5 = 7
    }

    @Test("a job larger than maxRows still runs, alone")
    func oversizedJob() {
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 4, maxDelayNanoseconds: 0)
        _ = queue.submit(Self.job(rows: 100, tag: 7))
        _ = queue.submit(Self.job(rows: 1, tag: 8))
        var batch: [InferenceJob] = []
        #expect(queue.nextBatch(into: &batch) && Self.tags(batch) == [7])
        #expect(queue.nextBatch(into: &batch) && Self.tags(batch) == [8])
    }

    @Test("with a queue delay a thread waits for more rows, then takes what arrived")
    func delayCollects() {
        // maxRows 2: the batch is full, and nextBatch returns, as soon as the second job arrives (well before 5 s).
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 2, maxDelayNanoseconds: 5_000_000_000)
        _ = queue.submit(Self.job(rows: 1, tag: 1))
        // A thread of its own: the cooperative pool may be busy with other suites.
        Thread {
            usleep(20_000)
            _ = queue.submit(Self.job(rows: 1, tag: 2))
        }.start()
        var batch: [InferenceJob] = []
        let start = MonotonicClock.nanoseconds()
        #expect(queue.nextBatch(into: &batch))
        #expect(Self.tags(batch) == [1, 2])
        #expect(MonotonicClock.nanoseconds() - start < 5_000_000_000)
    }

    @Test("with a queue delay and nothing else arriving, the batch goes when the delay ends")
    func delayExpires() {
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 8, maxDelayNanoseconds: 30_000_000)
        _ = queue.submit(Self.job(rows: 1, tag: 1))
        var batch: [InferenceJob] = []
        let start = MonotonicClock.nanoseconds()
        #expect(queue.nextBatch(into: &batch))
        #expect(Self.tags(batch) == [1])
        #expect(MonotonicClock.nanoseconds() - start >= 20_000_000)
    }

    @Test("stop refuses new jobs, hands out queued ones, then ends")
    func stopDrains() {
        let queue = BatchQueue<InferenceJob>(capacity: 8, maxRows: 1, maxDelayNanoseconds: 0)
        _ = queue.submit(Self.job(rows: 1, tag: 5))
        queue.stop()
        #expect(queue.submit(Self.job(rows: 1)) == .stopped)
        var batch: [InferenceJob] = []
        #expect(queue.nextBatch(into: &batch) && Self.tags(batch) == [5])
        #expect(!queue.nextBatch(into: &batch))
    }
}

@Suite("ModelRepository finds bundles")
struct ModelRepositoryTests {
    @Test("a model directory of versions serves the newest; a repository serves every model")
    func layouts() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for version in ["1", "2", "10"] {
            try FileManager.default.createDirectory(atPath: "\(root)/m/\(version)", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(root)/m/\(version)/model.onnx", contents: Data())
        }
        #expect(ModelRepository.newestVersion(in: "\(root)/m") == "10")
        // A version without features.json is a plain ONNX model (served over v2 only), not an error.
        let bundle = try #require(try ModelRepository.discover("\(root)/m").first)
        #expect(bundle.version == "10" && bundle.name == "m" && bundle.featureMap == nil)
        #expect(try ModelRepository.discover(root).map(\.directory) == ["\(root)/m/10"])
        // A broken features.json is refused with a message that names the file.
        _ = FileManager.default.createFile(atPath: "\(root)/m/10/features.json", contents: Data("{".utf8))
        let error = try #require(throws: ServingError.self) { try ModelRepository.discover("\(root)/m") }
        #expect(error.message.contains("features.json") && error.message.contains("/m/10"))
        let missing = try #require(throws: ServingError.self) { try ModelRepository.discover("\(root)/nothing") }
        #expect(missing.message.contains("does not exist"))
    }

    @Test("scan lists every version in numeric order, skips directories without model.onnx, and stamps a changed file anew")
    func scanVersions() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for version in ["2", "10", "9"] {
            try FileManager.default.createDirectory(atPath: "\(root)/m/\(version)", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(root)/m/\(version)/model.onnx", contents: Data([1]))
        }
        try FileManager.default.createDirectory(atPath: "\(root)/m/11", withIntermediateDirectories: true)  // still being copied
        try FileManager.default.createDirectory(atPath: "\(root)/m/latest", withIntermediateDirectories: true)
        let sources = try ModelRepository.scan(root)
        #expect(sources.map(\.name) == ["m"])
        #expect(sources[0].versions.map(\.version) == ["2", "9", "10"] && sources[0].newest?.version == "10")
        #expect(try ModelRepository.scan("\(root)/m") == sources)
        let pinned = try ModelRepository.scan("\(root)/m/9")
        #expect(pinned.map(\.name) == ["m"] && pinned[0].versions.map(\.version) == ["9"])
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(root)/m/10/model.onnx"))
        #expect(try ModelRepository.scan(root)[0].newest?.stamp != sources[0].newest?.stamp)
    }
}
