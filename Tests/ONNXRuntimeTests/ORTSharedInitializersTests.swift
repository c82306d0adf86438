import Foundation
import Testing
@testable import ONNXRuntime

@Suite("Sessions over shared initializers and the environment's allocator give numpy's outputs")
struct ORTSharedInitializersTests {
    static func run(_ session: ORTSession, batch: Int) throws -> [Float] {
        let fixture = try #require(Fixtures.cases[batch])
        let env = Fixtures.environment
        let outputs = try session.run(["sparse_ids": try ORTValue(fixture.ids, shape: [Int64(batch), 26], environment: env),
                                       "dense": try ORTValue(fixture.dense, shape: [Int64(batch), 13], environment: env)])
        return try #require(outputs["probability"]).array(of: Float.self)
    }

    @Test("three sessions on one set of weights (and one env arena) match the reference; the weights outlive their creator")
    func sharedSessions() throws {
        let path = Fixtures.path("criteo_tiny.onnx")
        var sessions: [ORTSession] = []
        do {
            let shared = try ORTSharedInitializers(modelPath: path, environment: Fixtures.environment, minimumBytes: 0)
            #expect(!shared.entries.isEmpty && shared.byteCount > 0)
            let options = try Fixtures.options()
            try options.addInitializers(shared)
            try options.useEnvironmentAllocator(Fixtures.environment)
            try options.useEnvironmentAllocator(Fixtures.environment)  // a second registration is a no-op
            #expect(options.configEntry("session.use_env_allocators") == "1")
            for _ in 0..<3 { sessions.append(try ORTSession(path: path, options: options, environment: Fixtures.environment)) }
        }
        // Only the sessions hold the shared weights now.
        let fixture = try #require(Fixtures.cases[7])
        for session in sessions {
            #expect(maxAbsDifference(try Self.run(session, batch: 7), fixture.probability) < 1e-6)
        }
    }

    @Test("a threshold above every weight shares nothing")
    func threshold() throws {
        let shared = try ORTSharedInitializers(modelPath: Fixtures.path("criteo_tiny.onnx"), environment: Fixtures.environment,
                                               minimumBytes: 1 << 40)
        #expect(shared.entries.isEmpty)
    }

    @Test("a file that is not ONNX is a modelFormat error naming it")
    func notONNX() throws {
        let error = try #require(throws: ORTError.self) {
            try ORTSharedInitializers(modelPath: Fixtures.path("not_onnx.txt"), environment: Fixtures.environment, minimumBytes: 0)
        }
        #expect(error.kind == .modelFormat && error.message.contains("not_onnx.txt"), "\(error.message)")
    }
}
