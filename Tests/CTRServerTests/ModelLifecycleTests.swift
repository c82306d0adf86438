import CTRFeatures
import CTRGRPCProtocol
import CTRServing
import ClickwiseTestSupport
import Foundation
import GRPCCore
import Testing
@testable import CTRServer

/// Version directories for lifecycle tests: the fixture model with a feature map whose numeric scales differ
/// per version, so the CTR API's predictions tell the versions apart (v2 tensors skip the encoding: the
/// answer's `model_version` tells them apart there).
enum ModelVersions {
    static func featureMap(version: Int) -> FeatureMap {
        let vocabularies = (0..<26).map { field in (0..<20).map { "c\(field)v\($0)" } }
        return try! FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: Double(10 * version), count: 13), minCount: 10)
    }

    /// Writes `<root>/tiny/<version>/` (atomically: built beside it, then renamed, as a deployment should).
    static func add(_ root: String, version: Int, model: String = "criteo_tiny.onnx", features: Bool = true) throws {
        let staging = root + "/.staging-\(version)"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestServer.fixtures + "/" + model, toPath: staging + "/model.onnx")
        if features { try featureMap(version: version).write(to: URL(fileURLWithPath: staging + "/features.json")) }
        try FileManager.default.moveItem(atPath: staging, toPath: root + "/tiny/\(version)")
    }

    /// A repository whose `tiny` model has `versions`.
    static func repository(_ versions: [Int]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-lifecycle-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/tiny", withIntermediateDirectories: true)
        for version in versions { try add(root, version: version) }
        return root
    }

    /// The repository index as (version, state, reason) of `tiny`.
    static func index(_ port: Int) throws -> [(version: String, state: String, reason: String)] {
        let response = try HTTPTestClient(port: port).send("POST", "/v2/repository/index")
        let entries = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: String]] ?? []
        return entries.filter { $0["name"] == "tiny" }.map { ($0["version"] ?? "", $0["state"] ?? "", $0["reason"] ?? "") }
    }

    /// A v2 JSON infer body of rows `rows`, encoded as the server encodes them.
    static func inferBody(_ rows: Range<Int>) -> [UInt8] {
        let (ids, dense) = GRPCRequests.encoded(rows)
        let object: [String: Any] = ["inputs": [
            ["name": "sparse_ids", "datatype": "INT64", "shape": [rows.count, 26], "data": ids],
            ["name": "dense", "datatype": "FP32", "shape": [rows.count, 13], "data": dense.map(Double.init)],
        ]]
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }
}

/// What the client loop of the swap test saw.
final class SwapObservations: @unchecked Sendable {
    // Guarded by `lock`.
    private var items: [String] = []
    private let lock = NSLock()
    func append(_ value: String) { lock.lock(); items.append(value); lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite("Model lifecycle: per-version states, hot swap, broken versions, unload and load, polling")
struct ModelLifecycleTests {
    @Test("the index lists every version: the newest READY, older ones UNAVAILABLE by the version policy; readiness per version")
    func indexStates() async throws {
        let repository = try ModelVersions.repository([1, 2])
        let server = try await TestServer.start(repository: repository)
        let index = try ModelVersions.index(server.port)
        #expect(index.map(\.version) == ["1", "2"])
        #expect(index.map(\.state) == ["UNAVAILABLE", "READY"])
        #expect(index[0].reason.contains("version policy") && index[1].reason.isEmpty, "\(index)")
        let client = HTTPTestClient(port: server.port)
        #expect(try client.send("GET", "/v2/models/tiny/ready").status == 200)
        #expect(try client.send("GET", "/v2/models/tiny/versions/2/ready").status == 200)
        let old = try client.send("GET", "/v2/models/tiny/versions/1/ready")
        #expect(old.status == 503 && old.text == #"{"ready":false}"#)
        #expect(try client.send("GET", "/v2/models/tiny/versions/9/ready").status == 404)
        #expect(try client.send("GET", "/v2/models/nope/ready").status == 404)
        let v1 = try client.send("POST", "/v2/models/tiny/versions/1/infer", body: ModelVersions.inferBody(0..<1))
        #expect(v1.status == 404 && v1.text.contains("version 1 is UNAVAILABLE"), "\(v1.text)")
        let extensions = try client.send("GET", "/v2").json?["extensions"] as? [String] ?? []
        #expect(extensions.contains("model_repository"))
        await server.stop()
    }

    @Test("a new version swaps in under concurrent CTR API and v2 load: every answer 200 and right for the version that gave it")
    func hotSwapUnderLoad() async throws {
        let repository = try ModelVersions.repository([1])
        var pool = PoolConfiguration()
        pool.poolSize = 2
        let server = try await TestServer.start(pool: pool, repository: repository)
        let port = server.port
        let rows = 0..<3
        let predictBody = TestRows.body(rows: rows)
        let before = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: predictBody)
        let v1Predictions = try #require(before.json?["predictions"] as? [Double])
        let expectedTensor = try HTTPServerTests.directPredictions(rows, bundle: repository + "/tiny/1")
        var oldEndpoint = server.application.endpoints["tiny"]
        try #require(oldEndpoint != nil)

        let stop = ManagedAtomicFlag()
        let observations = SwapObservations()
        let done = DispatchGroup()
        for clientIndex in 0..<4 {
            done.enter()
            Thread {
                defer { done.leave() }
                let client = HTTPTestClient(port: port)
                var lastVersion = 1
                while !stop.isSet {
                    do {
                        if clientIndex % 2 == 0 {
                            let response = try client.send("POST", "/v1/models/tiny:predict", body: predictBody)
                            let got = response.json?["predictions"] as? [Double] ?? []
                            let version = got == v1Predictions ? 1 : (got.count == rows.count && got != v1Predictions ? 2 : 0)
                            observations.append("predict \(response.status) \(version) \(version >= lastVersion ? "" : "backwards") \(version == 2 ? got.description : "")")
                            lastVersion = max(lastVersion, version)
                        } else {
                            let response = try client.send("POST", "/v2/models/tiny/infer", body: ModelVersions.inferBody(rows))
                            let json = response.json ?? [:]
                            let version = Int(json["model_version"] as? String ?? "") ?? 0
                            let data = ((json["outputs"] as? [[String: Any]])?.first?["data"] as? [Double]) ?? []
                            let right = data.count == rows.count && zip(data, expectedTensor).allSatisfy { abs($0 - Double($1)) < 1e-6 }
                            observations.append("infer \(response.status) \(version) \(version >= lastVersion ? "" : "backwards") \(right ? "" : "wrong")")
                            lastVersion = max(lastVersion, version)
                        }
                    } catch {
                        observations.append("error \(error)")
                        return
                    }
                }
            }.start()
        }
        // Clients answered by version 1 before the swap, and by version 2 after it, on both APIs.
        try #require(await pollUntil(timeout: 60) { observations.values.count >= 12 }, "the clients got no answers")
        try ModelVersions.add(repository, version: 2)
        let load = try HTTPTestClient(port: port).send("POST", "/v2/repository/models/tiny/load")
        let answered = await pollUntil(timeout: 60) {
            let seen = observations.values
            return seen.contains { $0.hasPrefix("predict 200 2") } && seen.contains { $0.hasPrefix("infer 200 2") }
        }
        stop.set()
        await withCheckedContinuation { continuation in done.notify(queue: .global()) { continuation.resume() } }

        #expect(load.status == 200, "\(load.text)")
        #expect(answered, "no client was answered by version 2 within 60 s of the load")
        let seen = observations.values
        let v2Predict = seen.filter { $0.hasPrefix("predict 200 2") }
        #expect(seen.count > 20)
        #expect(seen.allSatisfy { $0.hasPrefix("predict 200 1") || $0.hasPrefix("predict 200 2") || $0.hasPrefix("infer 200 1") || $0.hasPrefix("infer 200 2") },
                "\(seen.filter { !($0.hasPrefix("predict 200") || $0.hasPrefix("infer 200")) || $0.contains(" 0 ") })")
        #expect(!seen.contains { $0.contains("backwards") || $0.contains("wrong") })
        #expect(seen.contains { $0.hasPrefix("predict 200 1") } && !v2Predict.isEmpty && seen.contains { $0.hasPrefix("infer 200 2") })
        // Every v2 prediction of the CTR API is one and the same answer: version 2's encoding, not a mix.
        #expect(Set(v2Predict).count == 1, "\(Set(v2Predict))")

        let index = try ModelVersions.index(port)
        #expect(index.map(\.state) == ["UNAVAILABLE", "READY"] && index[0].reason.contains("replaced by version 2"), "\(index)")
        // The old version was released: its pool takes no more work.
        let job = InferenceJob(rows: 1, shapes: [[1, 26], [1, 13]], elementSizes: [8, 4]) { _ in }
        #expect(throws: ServingError.self) { try oldEndpoint?.pool.submit(job) }
        // ...and nothing keeps it: its sessions are freed once this test lets go of it.
        weak let released = oldEndpoint
        oldEndpoint = nil
        #expect(released == nil)
        let stats = try HTTPTestClient(port: port).send("GET", "/v2/models/tiny/stats")
        let entry = (stats.json?["model_stats"] as? [[String: Any]])?.first
        #expect(entry?["version"] as? String == "2")
        await server.stop()
    }

    @Test("a broken new version (bad model.onnx, features.json missing where the served version has one, or corrupt) leaves the old one serving, the reason in the index")
    func brokenVersionKeepsOldServing() async throws {
        let repository = try ModelVersions.repository([1])
        let server = try await TestServer.start(repository: repository)
        let client = HTTPTestClient(port: server.port)
        let body = TestRows.body(rows: 0..<2)
        let before = try client.send("POST", "/v1/models/tiny:predict", body: body)

        try ModelVersions.add(repository, version: 2, model: "garbage.onnx")
        let garbage = try client.send("POST", "/v2/repository/models/tiny/load")
        #expect(garbage.status == 400 && garbage.text.contains("version 2") && garbage.text.contains("version 1 keeps serving"), "\(garbage.text)")
        var index = try ModelVersions.index(server.port)
        #expect(index.map(\.state) == ["READY", "UNAVAILABLE"] && index[1].reason.contains("failed to load") && index[1].reason.contains("model.onnx"), "\(index)")

        try ModelVersions.add(repository, version: 3, features: false)
        let missing = try client.send("POST", "/v2/repository/models/tiny/load")
        #expect(missing.status == 400 && missing.text.contains("features.json"), "\(missing.text)")

        try ModelVersions.add(repository, version: 4, features: false)
        try Data("{\"version\": 3, \"categorical".utf8).write(to: URL(fileURLWithPath: repository + "/tiny/4/features.json"))
        let corrupt = try client.send("POST", "/v2/repository/models/tiny/load")
        #expect(corrupt.status == 400 && corrupt.text.contains("tiny/4/features.json"), "\(corrupt.text)")

        index = try ModelVersions.index(server.port)
        #expect(index.map(\.version) == ["1", "2", "3", "4"])
        #expect(index.map(\.state) == ["READY", "UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE"], "\(index)")
        #expect(index[2].reason.contains("features.json") && index[3].reason.contains("features.json"), "\(index)")
        let after = try client.send("POST", "/v1/models/tiny:predict", body: body)
        #expect(after.status == 200 && after.body == before.body)
        #expect(try client.send("GET", "/v2/models/tiny/ready").status == 200)
        await server.stop()
    }

    @Test("unload really unloads (404, not ready, UNAVAILABLE, pool stopped); load brings the model back")
    func unloadThenLoad() async throws {
        let repository = try ModelVersions.repository([1])
        let server = try await TestServer.start(repository: repository)
        let client = HTTPTestClient(port: server.port)
        let body = TestRows.body(rows: 0..<2)
        let before = try client.send("POST", "/v1/models/tiny:predict", body: body)
        let endpoint = try #require(server.application.endpoints["tiny"])

        #expect(try client.send("POST", "/v2/repository/models/tiny/unload").status == 200)
        let predict = try client.send("POST", "/v1/models/tiny:predict", body: body)
        #expect(predict.status == 404 && predict.text.contains("not loaded"), "\(predict.text)")
        #expect(try client.send("POST", "/v2/models/tiny/infer", body: ModelVersions.inferBody(0..<1)).status == 404)
        #expect(try client.send("GET", "/v2/models/tiny/ready").status == 503)
        let index = try ModelVersions.index(server.port)
        #expect(index.map(\.state) == ["UNAVAILABLE"] && index[0].reason.contains("unloaded"), "\(index)")
        let job = InferenceJob(rows: 1, shapes: [[1, 26], [1, 13]], elementSizes: [8, 4]) { _ in }
        #expect(throws: ServingError.self) { try endpoint.pool.submit(job) }
        // Polling leaves an unloaded model unloaded.
        await InferenceCore.offPool(name: "test-poll") { server.application.pollRepository() }
        #expect(try client.send("GET", "/v2/models/tiny/ready").status == 503)
        #expect(try client.send("POST", "/v2/repository/models/nope/unload").status == 404)

        #expect(try client.send("POST", "/v2/repository/models/tiny/load").status == 200)
        let after = try client.send("POST", "/v1/models/tiny:predict", body: body)
        #expect(after.status == 200 && after.body == before.body)
        #expect(try ModelVersions.index(server.port).map(\.state) == ["READY"])
        #expect(try client.send("POST", "/v2/repository/models/nope/load").status == 404)
        await server.stop()
    }

    @Test("a repository poll keeps serving past a broken version, picks up a fixed one and a new model, and unloads a removed model")
    func pollPicksUpNewVersions() async throws {
        let repository = try ModelVersions.repository([1])
        let server = try await TestServer.start(repository: repository)
        let core = server.application
        try ModelVersions.add(repository, version: 2, model: "garbage.onnx")
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(try ModelVersions.index(server.port).map(\.state) == ["READY", "UNAVAILABLE"])
        #expect(core.endpoints["tiny"]?.bundle.version == "1")

        try FileManager.default.removeItem(atPath: repository + "/tiny/2")
        try ModelVersions.add(repository, version: 2)
        try FileManager.default.createDirectory(atPath: repository + "/other", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repository + "/tiny/1", toPath: repository + "/other/7")
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(core.endpoints["tiny"]?.bundle.version == "2")
        #expect(core.endpoints["other"]?.bundle.version == "7")
        #expect(try ModelVersions.index(server.port).map(\.state) == ["UNAVAILABLE", "READY"])
        #expect(try HTTPTestClient(port: server.port).send("POST", "/v1/models/other:predict", body: TestRows.body(rows: 0..<1)).status == 200)

        try FileManager.default.removeItem(atPath: repository + "/other")
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(core.endpoints["other"] == nil)
        await server.stop()
    }

    @Test("clickwise publish: the next version appears whole to a polling server, the answers change with it, --keep prunes")
    func publishedVersionsServe() async throws {
        let repository = try ModelVersions.repository([1])
        let server = try await TestServer.start(repository: repository)
        let core = server.application
        let client = HTTPTestClient(port: server.port)
        func answer() throws -> [Double] {
            try #require(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<4)).json?["predictions"] as? [Double])
        }
        let before = try answer()
        // A bundle as `train` leaves it, published twice: versions 2 and 3 (their scales differ from version 1's).
        let bundles = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-publish-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: bundles) }
        for version in [2, 3] {
            let bundle = bundles + "/b\(version)"
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestServer.fixtures + "/criteo_tiny.onnx", toPath: bundle + "/model.onnx")
            try ModelVersions.featureMap(version: version).write(to: URL(fileURLWithPath: bundle + "/features.json"))
        }
        let second = try ModelPublisher.publish(bundle: bundles + "/b2", repository: repository, model: "tiny")
        #expect(second.version == 2 && second.pruned.isEmpty)
        // Nothing but the versions is left beside them: the staging directory was renamed, not copied.
        #expect(try FileManager.default.contentsOfDirectory(atPath: repository + "/tiny").sorted() == ["1", "2"])
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(core.endpoints["tiny"]?.bundle.version == "2")
        let afterSecond = try answer()
        #expect(afterSecond != before)
        let third = try ModelPublisher.publish(bundle: bundles + "/b3", repository: repository, model: "tiny", keep: 2)
        #expect(third.version == 3 && third.pruned == [1])
        #expect(try FileManager.default.contentsOfDirectory(atPath: repository + "/tiny").sorted() == ["2", "3"])
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(core.endpoints["tiny"]?.bundle.version == "3")
        #expect(try answer() != afterSecond)
        // Refusals name what is wrong, and leave the repository as it was.
        #expect(throws: ModelPublisher.Failure.self) { try ModelPublisher.publish(bundle: bundles, repository: repository, model: "tiny") }
        #expect(throws: ModelPublisher.Failure.self) { try ModelPublisher.publish(bundle: bundles + "/b3", repository: repository, model: "tiny", keep: 1) }
        #expect(throws: ModelPublisher.Failure.self) { try ModelPublisher.publish(bundle: bundles + "/b3", repository: repository, model: "../x") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: repository + "/tiny").sorted() == ["2", "3"])
        await server.stop()
    }

    @Test("gRPC ModelReady, RepositoryIndex, RepositoryModelUnload and RepositoryModelLoad follow the model's state")
    func grpcRepository() async throws {
        let server = try await GRPCTestServer.start()
        let root = (server.http.bundleDirectory as NSString).deletingLastPathComponent.appending("/..")
        try ModelVersions.add((root as NSString).standardizingPath, version: 2)
        let states = try await server.withClient { client -> [[String]] in
            func ready() async throws -> String {
                var request = Inference_ModelReadyRequest()
                request.name = "tiny"
                return try await client.modelReady(request).ready ? "ready" : "not ready"
            }
            func index() async throws -> [String] {
                try await client.repositoryIndex(Inference_RepositoryIndexRequest()).models.map { "\($0.version):\($0.state)" }
            }
            var load = Inference_RepositoryModelLoadRequest()
            load.modelName = "tiny"
            var unload = Inference_RepositoryModelUnloadRequest()
            unload.modelName = "tiny"
            var result: [[String]] = [[try await ready()] + (try await index())]
            _ = try await client.repositoryModelLoad(load)
            var infer = GRPCRequests.raw(0..<2)
            infer.modelVersion = ""
            let answer = try await client.modelInfer(infer)
            result.append([try await ready(), answer.modelVersion] + (try await index()))
            _ = try await client.repositoryModelUnload(unload)
            result.append([try await ready()] + (try await index()))
            do {
                _ = try await client.modelInfer(GRPCRequests.raw(0..<1))
                result.append(["infer after unload succeeded"])
            } catch let error as RPCError {
                result.append([error.code == .notFound ? "notFound" : "\(error.code)"])
            }
            _ = try await client.repositoryModelLoad(load)
            result.append([try await ready()] + (try await index()))
            return result
        }
        #expect(states == [
            ["ready", "1:READY"],
            ["ready", "2", "1:UNAVAILABLE", "2:READY"],
            ["not ready", "1:UNAVAILABLE", "2:UNAVAILABLE"],
            ["notFound"],
            ["ready", "1:UNAVAILABLE", "2:READY"],
        ])
        await server.stop()
    }
}

/// A flag set once by the test and read by its client threads.
final class ManagedAtomicFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private var value = false
    private let lock = NSLock()
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}


