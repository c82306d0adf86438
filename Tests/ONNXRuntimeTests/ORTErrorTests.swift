import Foundation
import Testing
@testable import ONNXRuntime

@Suite("Typed errors name the problem")
struct ORTErrorTests {
    let env = Fixtures.environment

    @Test("a missing model file")
    func missingFile() throws {
        let error = try #require(throws: ORTError.self) { try Fixtures.session("no_such_model.onnx") }
        #expect(error.kind == .modelFileNotFound)
        #expect(error.message.contains("no_such_model.onnx"))
    }

    @Test("a directory instead of a model")
    func directory() throws {
        let error = try #require(throws: ORTError.self) {
            try ORTSession(path: Fixtures.directory, options: Fixtures.options(), environment: env)
        }
        #expect(error.kind == .modelFileNotFound)
        #expect(error.message.contains("not a regular file"))
    }

    @Test("garbage bytes, truncated ONNX and a text file", arguments: ["garbage.onnx", "truncated.onnx", "not_onnx.txt"])
    func notAModel(name: String) throws {
        let error = try #require(throws: ORTError.self) { try Fixtures.session(name) }
        guard case .runtime(let code) = error.kind else {
            Issue.record("expected an ONNX Runtime error, got \(error.kind)")
            return
        }
        #expect(code != .noSuchFile)
        #expect(error.message.contains(name))
    }

    @Test("garbage bytes from memory")
    func garbageBytes() throws {
        let bytes: [UInt8] = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let error = try #require(throws: ORTError.self) {
            try bytes.withUnsafeBytes { try ORTSession(bytes: $0, options: Fixtures.options(), environment: env) }
        }
        guard case .runtime = error.kind else { Issue.record("unexpected \(error.kind)"); return }
    }

    @Test("a wrong input name")
    func wrongInputName() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["ids": ORTValue([Int64](repeating: 0, count: 26), shape: [1, 26], environment: env),
                             "dense": ORTValue([Float](repeating: 0, count: 13), shape: [1, 13], environment: env)])
        }
        #expect(error.kind == .inputName)
        #expect(error.message.contains("\"ids\""))
    }

    @Test("a missing input")
    func missingInput() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["dense": ORTValue([Float](repeating: 0, count: 13), shape: [1, 13], environment: env)])
        }
        #expect(error.kind == .inputName)
        #expect(error.message.contains("sparse_ids"))
    }

    @Test("a wrong element type")
    func wrongElementType() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["sparse_ids": ORTValue([Float](repeating: 0, count: 26), shape: [1, 26], environment: env),
                             "dense": ORTValue([Float](repeating: 0, count: 13), shape: [1, 13], environment: env)])
        }
        #expect(error.kind == .elementType)
        #expect(error.message.contains("sparse_ids") && error.message.contains("int64"))
    }

    @Test("a wrong rank")
    func wrongRank() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["sparse_ids": ORTValue([Int64](repeating: 0, count: 26), shape: [26], environment: env),
                             "dense": ORTValue([Float](repeating: 0, count: 13), shape: [1, 13], environment: env)])
        }
        #expect(error.kind == .rank)
        #expect(error.message.contains("sparse_ids"))
    }

    @Test("a wrong fixed dimension")
    func wrongShape() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["sparse_ids": ORTValue([Int64](repeating: 0, count: 26), shape: [1, 26], environment: env),
                             "dense": ORTValue([Float](repeating: 0, count: 12), shape: [1, 12], environment: env)])
        }
        #expect(error.kind == .shape)
        #expect(error.message.contains("dense") && error.message.contains("13"))
    }

    @Test("a shape that disagrees with the data")
    func bufferSize() throws {
        let error = try #require(throws: ORTError.self) {
            try ORTValue([Float](repeating: 0, count: 10), shape: [1, 13], environment: env)
        }
        #expect(error.kind == .bufferSize)
    }

    @Test("an out-of-range id is ORT's error, not a crash")
    func outOfRangeID() throws {
        let session = try Fixtures.session()
        let error = try #require(throws: ORTError.self) {
            try session.run(["sparse_ids": ORTValue([Int64](repeating: 5_000, count: 26), shape: [1, 26], environment: env),
                             "dense": ORTValue([Float](repeating: 0, count: 13), shape: [1, 13], environment: env)])
        }
        guard case .runtime = error.kind else { Issue.record("unexpected \(error.kind)"); return }
        #expect(error.message.contains("Run"))
    }

    @Test("XNNPACK is not in the PyPI build and says so")
    func xnnpackUnsupported() throws {
        let options = try Fixtures.options()
        let error = try #require(throws: ORTError.self) { try options.appendExecutionProvider("XNNPACK") }
        #expect(error.kind == .runtime(.invalidArgument))
        #expect(error.message.contains("not supported in this build"))
    }

    @Test("a library path that does not exist")
    func missingLibrary() throws {
        let candidates = ORTRuntime.searchCandidates(explicitPath: "/nonexistent/libonnxruntime.so.1.31.1")
        #expect(candidates.count == 1 && candidates[0].required)
        let error = try #require(throws: ORTError.self) { try ORTRuntime.load(explicitPath: "/nonexistent/libonnxruntime.so.1.31.1") }
        // Either the process already has a runtime (and refuses a second path) or the path is reported as searched.
        #expect(error.message.contains("/nonexistent/libonnxruntime.so.1.31.1"))
    }

    @Test("version check")
    func versionCheck() {
        #expect(ORTRuntime.isSupported(version: "1.31.1"))
        #expect(ORTRuntime.isSupported(version: "1.32.0"))
        #expect(ORTRuntime.isSupported(version: "2.0.0"))
        #expect(!ORTRuntime.isSupported(version: "1.30.9"))
        #expect(!ORTRuntime.isSupported(version: "garbage"))
    }

    @Test("session options: settings are stored and read back")
    func optionsReadBack() throws {
        let options = try Fixtures.options()
        try options.setAllowSpinning(false)
        try options.setGraphOptimizationLevel(.all)
        try options.setExecutionMode(.sequential)
        #expect(options.configEntry("session.intra_op.allow_spinning") == "0")
        #expect(options.configEntry("session.no_such_key") == nil)
    }

    @Test("the environment is created once; other settings while it is alive are refused")
    func environmentOnce() throws {
        let again = try ORTEnvironment.make(runtime: env.runtime)
        #expect(again === env)
        let error = try #require(throws: ORTError.self) {
            try ORTEnvironment.make(runtime: env.runtime, settings: .init(logLevel: .error))
        }
        #expect(error.kind == .environmentConflict)
    }
}
