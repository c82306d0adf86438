import CTRServing
import CTRGRPCProtocol
import ClickwiseTestSupport
import Foundation
import Testing
@testable import CTRServer

/// `serve --traffic`, `--shadow` and `traffic.json` (issue 25 item 5): versions share a model's requests by weight,
/// sticky per user; a shadow version scores them too, logged apart; a policy changes live without a failed request.
@Suite("Traffic split and shadow")
struct TrafficSplitTests {
    /// One row whose user (the sticky field, I1) is `user`, the rest from TestRows row `index`.
    static func body(user: Int, index: Int) -> [UInt8] {
        var row = TestRows.row(index)
        row["I1"] = user
        return Array(try! JSONSerialization.data(withJSONObject: ["instances": [row]]))
    }

    static func writePolicy(_ json: String, repository: String) throws {
        try Data(json.utf8).write(to: URL(fileURLWithPath: repository + "/tiny/" + TrafficPolicy.fileName), options: .atomic)
    }

    @Test("weights share the CTR API's requests, each user sticks to one version, answers name it")
    func stickyWeightedSplit() async throws {
        let repository = try ModelVersions.repository([1, 2, 3])
        try Self.writePolicy(#"{"weights": {"1": 30, "2": 70}, "sticky_field": "I1"}"#, repository: repository)
        let server = try await TestServer.start(repository: repository)
        let client = HTTPTestClient(port: server.port)
        #expect(try ModelVersions.index(server.port).map(\.state) == ["READY", "READY", "UNAVAILABLE"])
        var byVersion: [String: Int] = [:]
        var userVersion: [Int: String] = [:]
        for request in 0..<400 {
            let user = request % 80
            let response = try client.send("POST", "/v1/models/tiny:predict", body: Self.body(user: user, index: request % 7))
            #expect(response.status == 200, "\(response.text)")
            let version = try #require(response.headers["x-model-version"], "\(response.headers)")
            byVersion[version, default: 0] += 1
            if let seen = userVersion[user] { #expect(seen == version, "user \(user) moved from \(seen) to \(version)") }
            userVersion[user] = version
        }
        #expect(Set(byVersion.keys) == ["1", "2"])
        // 80 users drawn 30:70: version 1 gets 8-40 of them (a binomial far outside its tails otherwise).
        let usersOnOne = userVersion.values.filter { $0 == "1" }.count
        #expect((8...40).contains(usersOnOne), "\(usersOnOne) of 80 users on version 1")
        // A request without the sticky field is drawn at random; v2 without a version is drawn by weight.
        var v2Versions = Set<String>()
        for _ in 0..<60 {
            let response = try client.send("POST", "/v2/models/tiny/infer", body: ModelVersions.inferBody(0..<1))
            v2Versions.insert(response.json?["model_version"] as? String ?? "?")
        }
        #expect(v2Versions == ["1", "2"])
        #expect(try client.send("POST", "/v2/models/tiny/versions/3/infer", body: ModelVersions.inferBody(0..<1)).status == 404)
        await server.stop()
    }

    @Test("a traffic.json changed live: versions load and retire with it, a broken one keeps the old split, no request fails")
    func livePolicyChanges() async throws {
        let repository = try ModelVersions.repository([1, 2])
        try Self.writePolicy(#"{"weights": {"1": 50, "2": 50}}"#, repository: repository)
        let server = try await TestServer.start(repository: repository)
        let core = server.application
        let port = server.port
        let stop = ManagedAtomicFlag()
        let failures = SwapObservations()
        let done = DispatchGroup()
        for clientIndex in 0..<2 {
            done.enter()
            Thread {
                defer { done.leave() }
                let client = HTTPTestClient(port: port)
                var request = 0
                while !stop.isSet {
                    request += 1
                    let response = (try? client.send("POST", "/v1/models/tiny:predict", body: Self.body(user: request, index: clientIndex)))
                    if response?.status != 200 { failures.append("\(response?.status ?? 0) \(response?.text ?? "no answer")") }
                }
            }.start()
        }
        func versionsServed() -> Set<String> { Set(core.allEndpoints.map(\.bundle.version)) }
        #expect(versionsServed() == ["1", "2"])
        try Self.writePolicy(#"{"weights": {"2": 100}}"#, repository: repository)
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(versionsServed() == ["2"])
        let index = try ModelVersions.index(port)
        #expect(index.map(\.state) == ["UNAVAILABLE", "READY"] && index[0].reason.contains("traffic"), "\(index)")
        // A version the repository does not hold: the split stays as it was, the load API says why.
        try Self.writePolicy(#"{"weights": {"2": 50, "9": 50}}"#, repository: repository)
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(versionsServed() == ["2"])
        let refused = await core.loadOffPool(model: "tiny")
        #expect(refused?.message.contains("no version 9") == true, "\(String(describing: refused))")
        try Self.writePolicy(#"{"weights": {"1": 90, "2": 10}, "shadow": "2"}"#, repository: repository)
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(versionsServed() == ["1", "2"])
        #expect(core.endpoints["tiny"]?.bundle.version == "1", "the heaviest share answers metadata")
        // Without the file, the newest version alone (Triton's latest 1), as before any policy.
        try FileManager.default.removeItem(atPath: repository + "/tiny/" + TrafficPolicy.fileName)
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        #expect(versionsServed() == ["2"])
        stop.set()
        done.wait()
        #expect(failures.values.isEmpty, "\(failures.values.prefix(5))")
        await server.stop()
    }

    @Test("a shadow version scores every CTR API request: logged under shadow/ with the answer's request id, never answered")
    func shadowIsLoggedApart() async throws {
        let repository = try ModelVersions.repository([1, 2])
        let directory = try PredictionLogTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await TestServer.start(repository: repository) {
            $0.traffic = try! TrafficPolicy.fromArguments(traffic: ["tiny=1:1"], shadow: ["tiny=2"])
            $0.predictionLog = PredictionLog.Settings(directory: directory + "/log")
        }
        let client = HTTPTestClient(port: server.port)
        let answered = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Id": "r1"], body: TestRows.body(rows: 0..<3))
        let predictions = try #require(answered.json?["predictions"] as? [Double])
        let ranked = try client.send("POST", "/v1/models/tiny:rank", headers: ["X-Request-Id": "r2"],
                                     body: RankTests.json(["context": RankTests.split(TestRows.row(4)).context, "candidates": [["C14": "a"], ["C14": "b"]]]))
        #expect(ranked.status == 200, "\(ranked.text)")
        let log = try #require(server.application.predictionLog)
        #expect(await pollUntil(timeout: 30) { log.counts.written == 10 })
        let (_, served) = try PredictionLogTests.records(directory + "/log")
        let (_, shadow) = try PredictionLogTests.records(directory + "/log", model: "tiny/" + PredictionLog.shadowDirectory)
        #expect(served.map { $0["version"] ?? "" } == ["1", "1", "1", "1", "1"])
        #expect(shadow.map { $0["version"] ?? "" } == ["2", "2", "2", "2", "2"])
        #expect(served.map { $0["request_id"] ?? "" } == shadow.map { $0["request_id"] ?? "" })
        for index in 0..<3 {
            #expect(abs((Double(served[index]["prediction"] ?? "") ?? -1) - predictions[index]) < 1e-6)
            #expect(abs((Double(shadow[index]["prediction"] ?? "") ?? -1) - predictions[index]) > 1e-6, "version 2 scores differently")
        }
        let stats = try client.send("GET", "/v2/models/tiny/versions/2/stats").json
        let entry = (stats?["model_stats"] as? [[String: Any]])?.first
        #expect(entry?["inference_count"] as? Int == 5, "\(String(describing: entry))")
        await server.stop()
    }

    @Test("the repository load API sets a policy (HTTP and gRPC parameter \"traffic\"), writes it for polls and restarts, refuses a bad one")
    func loadAPISetsTraffic() async throws {
        let server = try await GRPCTestServer.start()
        let root = ((server.http.bundleDirectory as NSString).deletingLastPathComponent.appending("/..") as NSString).standardizingPath
        try ModelVersions.add(root, version: 2)
        let core = server.http.application
        let client = HTTPTestClient(port: server.http.port)
        func versionsServed() -> [String] { core.allEndpoints.map(\.bundle.version) }
        let split = try client.send("POST", "/v2/repository/models/tiny/load", body: Array(#"{"parameters": {"traffic": {"weights": {"1": 50, "2": 50}}}}"#.utf8))
        #expect(split.status == 200, "\(split.text)")
        #expect(versionsServed() == ["1", "2"])
        #expect(try String(contentsOfFile: root + "/tiny/traffic.json", encoding: .utf8).contains("weights"))
        let missing = try client.send("POST", "/v2/repository/models/tiny/load", body: Array(#"{"parameters": {"traffic": "{\"weights\": {\"7\": 1}}"}}"#.utf8))
        #expect(missing.status == 400 && missing.text.contains("no version 7"), "\(missing.text)")
        let malformed = try client.send("POST", "/v2/repository/models/tiny/load", body: Array(#"{"parameters": {"traffic": {"weights": {"1": "x"}}}}"#.utf8))
        #expect(malformed.status == 400 && malformed.text.contains("traffic"), "\(malformed.text)")
        let unknown = try client.send("POST", "/v2/repository/models/tiny/load", body: Array(#"{"parameters": {"config": "{}"}}"#.utf8))
        #expect(unknown.status == 400 && unknown.text.contains("\\\"config\\\" is not supported"), "\(unknown.text)")
        #expect(versionsServed() == ["1", "2"], "refusals leave the split as it was")
        #expect(try String(contentsOfFile: root + "/tiny/traffic.json", encoding: .utf8).contains("\"1\""), "and its file")
        try await server.withClient { grpc in
            var load = Inference_RepositoryModelLoadRequest()
            load.modelName = "tiny"
            var parameter = Inference_ModelRepositoryParameter()
            parameter.stringParam = #"{"weights": {"2": 1}}"#
            load.parameters["traffic"] = parameter
            _ = try await grpc.repositoryModelLoad(load)
        }
        #expect(versionsServed() == ["2"])
        await server.stop()
    }
}
