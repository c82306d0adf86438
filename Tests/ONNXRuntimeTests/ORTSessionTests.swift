import Foundation
import Testing
@testable import ONNXRuntime

@Suite("ORTSession against the real ONNX Runtime")
struct ORTSessionTests {
    @Test("runtime loads from the project virtualenv with the expected version")
    func runtimeLoads() throws {
        let runtime = Fixtures.environment.runtime
        #expect(runtime.version == "1.31.1")
        #expect(runtime.libraryPath.contains("libonnxruntime.so"))
        #expect(try runtime.availableProviders().contains("CPUExecutionProvider"))
        #expect(runtime.buildInfo.contains("ORT Build Info"))
    }

    @Test("inputs, outputs and metadata are reported")
    func introspection() throws {
        let session = try Fixtures.session()
        #expect(session.inputs.map(\.name) == ["sparse_ids", "dense"])
        #expect(session.inputs[0].elementType == .int64)
        #expect(session.inputs[0].shape == [-1, 26])
        #expect(session.inputs[0].symbolicShape == ["batch", ""])
        #expect(session.inputs[1].elementType == .float)
        #expect(session.outputs.map(\.name) == ["probability"])
        #expect(session.outputs[0].shape == [-1, 1])
        #expect(session.metadata.custom["architecture"] == "fixture-linear")
        #expect(session.metadata.custom["fields"] == "26+13")
        #expect(session.metadata.producerName == "clickwise-fixtures")
        #expect(session.metadata.graphName == "criteo_tiny")
        #expect(session.metadata.version == 3)
    }

    @Test("outputs match numpy within 1e-6", arguments: [1, 7, 256])
    func matchesReference(batch: Int) throws {
        let session = try Fixtures.session()
        let fixture = try #require(Fixtures.cases[batch])
        let env = Fixtures.environment
        let ids = try ORTValue(fixture.ids, shape: [Int64(batch), 26], environment: env)
        let dense = try ORTValue(fixture.dense, shape: [Int64(batch), 13], environment: env)
        let outputs = try session.run(["sparse_ids": ids, "dense": dense])
        let probability = try #require(outputs["probability"])
        #expect(probability.shape == [Int64(batch), 1])
        #expect(maxAbsDifference(try probability.array(of: Float.self), fixture.probability) < 1e-6)
    }

    @Test("allocation-free run into caller buffers matches", arguments: [1, 7, 256])
    func runIntoBuffers(batch: Int) throws {
        let session = try Fixtures.session()
        let fixture = try #require(Fixtures.cases[batch])
        var ids = fixture.ids, dense = fixture.dense
        var output = [Float](repeating: -1, count: batch)
        try ids.withUnsafeMutableBufferPointer { idsBuffer in
            try dense.withUnsafeMutableBufferPointer { denseBuffer in
                try output.withUnsafeMutableBufferPointer { outBuffer in
                    try session.run(inputs: [ORTTensorView(idsBuffer, shape: [Int64(batch), 26]),
                                             ORTTensorView(denseBuffer, shape: [Int64(batch), 13])],
                                    outputs: [ORTTensorView(outBuffer, shape: [Int64(batch), 1])])
                }
            }
        }
        #expect(maxAbsDifference(output, fixture.probability) < 1e-6)
    }

    @Test("int32 ids run through an int32 model")
    func int32Inputs() throws {
        let session = try Fixtures.session("criteo_tiny_int32.onnx")
        #expect(session.inputs[0].elementType == .int32)
        let fixture = try #require(Fixtures.cases[7])
        let env = Fixtures.environment
        let outputs = try session.run([
            ORTValue(fixture.ids.map { Int32($0) }, shape: [7, 26], environment: env),
            ORTValue(fixture.dense, shape: [7, 13], environment: env),
        ])
        #expect(maxAbsDifference(try outputs[0].array(of: Float.self), fixture.probability) < 1e-6)
    }

    @Test("a session loads from bytes as from a file")
    func loadFromBytes() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("criteo_tiny.onnx")))
        let session = try bytes.withUnsafeBytes { raw in
            try ORTSession(bytes: raw, options: Fixtures.options(), environment: Fixtures.environment)
        }
        let fixture = try #require(Fixtures.cases[1])
        let env = Fixtures.environment
        let out = try session.run([ORTValue(fixture.ids, shape: [1, 26], environment: env), ORTValue(fixture.dense, shape: [1, 13], environment: env)])
        #expect(maxAbsDifference(try out[0].array(of: Float.self), fixture.probability) < 1e-6)
    }

    @Test("sessions sharing a prepacked-weights container give the same outputs")
    func prepackedWeights() throws {
        let container = try ORTPrepackedWeights(environment: Fixtures.environment)
        let sessions = try (0..<3).map { _ in
            try ORTSession(path: Fixtures.path("criteo_tiny.onnx"), options: Fixtures.options(), environment: Fixtures.environment,
                           prepackedWeights: container)
        }
        let fixture = try #require(Fixtures.cases[7])
        let env = Fixtures.environment
        for session in sessions {
            let out = try session.run([ORTValue(fixture.ids, shape: [7, 26], environment: env), ORTValue(fixture.dense, shape: [7, 13], environment: env)])
            #expect(maxAbsDifference(try out[0].array(of: Float.self), fixture.probability) < 1e-6)
        }
    }

    @Test("8 threads x 1,000 runs on one shared session all return the exact expected values")
    func concurrentRuns() throws {
        let session = try Fixtures.session()
        let env = Fixtures.environment
        let batches = [1, 7, 256]
        let fixtures = batches.map { Fixtures.cases[$0]! }
        // Single-threaded results first: concurrent runs must reproduce them bit for bit.
        let baseline = try zip(batches, fixtures).map { batch, fixture in
            try session.run([ORTValue(fixture.ids, shape: [Int64(batch), 26], environment: env),
                             ORTValue(fixture.dense, shape: [Int64(batch), 13], environment: env)])[0].array(of: Float.self)
        }
        for (values, fixture) in zip(baseline, fixtures) { #expect(maxAbsDifference(values, fixture.probability) < 1e-6) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for iteration in 0..<1_000 {
                let which = (thread + iteration) % batches.count
                let fixture = fixtures[which], batch = Int64(batches[which])
                do {
                    let out = try session.run([ORTValue(fixture.ids, shape: [batch, 26], environment: env),
                                               ORTValue(fixture.dense, shape: [batch, 13], environment: env)])
                    if try out[0].array(of: Float.self) != baseline[which] { failures.add() }
                } catch {
                    failures.add()
                }
            }
        }
        #expect(failures.count == 0)
    }
}

/// A thread-safe failure counter for the concurrency test.
final class Failures: @unchecked Sendable {
    // Guarded by `lock`.
    private var value = 0
    private let lock = NSLock()
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
