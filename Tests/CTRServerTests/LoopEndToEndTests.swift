import CTRModels
import CTRServing
import ClickwiseTestSupport
import Foundation
import Testing
@testable import CTRServer

/// The whole loop of issue 25, small enough for CI: serve version 1 with a prediction log; traffic drawn from a
/// drifted click model (new ads, changed tastes: `data synth --drift`), clicks drawn from its true probabilities;
/// `data join`; `train --warm-start`; `publish` version 2; a 50/50 split through traffic.json, applied under load;
/// then version 2 in shadow of version 1 on fresh traffic, where `evaluate --predictions --clicks` ranks version 2
/// above version 1 on the same rows; no request fails.
@Suite("The loop: log, join, warm start, publish, split, compare")
struct LoopEndToEndTests {
    static func clickwise(_ arguments: [String]) throws -> [String] {
        let (status, output) = try AnyDatasetEndToEndTests.run(arguments)
        #expect(status == 0, "clickwise \(arguments.joined(separator: " ")): \(output.suffix(5))")
        return output
    }

    /// A synthetic CSV as `:predict` instances (raw strings; the price as a number; empty fields left out), with
    /// each row's true click probability.
    static func rows(_ path: String) throws -> (instances: [[String: Any]], truth: [Double]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let instances = lines.dropFirst().map { line -> [String: Any] in
            var row: [String: Any] = [:]
            for (name, value) in zip(header, line.split(separator: ",", omittingEmptySubsequences: false)) where !value.isEmpty && name != "clk" {
                row[name] = name == "price" ? Double(value) ?? 0 : String(value)
            }
            return row
        }
        let truth = try String(contentsOfFile: path + ".truth", encoding: .utf8).split(separator: "\n").compactMap { Double($0) }
        return (instances, truth)
    }

    /// Sends `rows` as requests of 10 rows, each with its X-Request-Id; appends a click line for each row its true
    /// probability clicks (seeded), 5 s after the request. Returns the statuses that were not 200.
    static func serve(_ rows: ArraySlice<[String: Any]>, truth: [Double], port: Int, tag: String, generator: inout SeededGenerator,
                      clicks: inout String) throws -> [String] {
        let client = HTTPTestClient(port: port)
        var failures: [String] = []
        let starts = Array(stride(from: rows.startIndex, to: rows.endIndex, by: 10))
        for start in starts {
            let batch = Array(rows[start..<min(start + 10, rows.endIndex)])
            let id = "\(tag)\(start)"
            let body = Array(try JSONSerialization.data(withJSONObject: ["instances": batch]))
            let response = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Id": id], body: body)
            if response.status != 200 { failures.append("\(response.status) \(response.text)") }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for index in batch.indices where Double(generator.next() >> 11) / Double(1 << 53) < truth[start + index] {
                clicks += "\(id),\(index),\(now + 5_000)\n"
            }
        }
        return failures
    }

    @Test func wholeLoop() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-loop-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = ServeProcess.packageRoot + "/configs/tiny/dataset_config.yaml"
        // Day 1: the world as version 1 learns it.
        _ = try Self.clickwise(["data", "synth", "--dataset-config", config, "--rows", "8000", "--seed", "1", "--out", directory + "/day1.csv"])
        let day1 = try String(contentsOfFile: directory + "/day1.csv", encoding: .utf8).split(separator: "\n")
        try (day1.prefix(7001).joined(separator: "\n") + "\n").write(toFile: directory + "/train1.csv", atomically: true, encoding: .utf8)
        try ([day1[0]] + day1.dropFirst(7001)).joined(separator: "\n").appending("\n").write(toFile: directory + "/valid1.csv", atomically: true, encoding: .utf8)
        _ = try Self.clickwise(["train", "--architecture", "deepfm", "--dataset-config", config, "--train", directory + "/train1.csv",
                                "--valid", directory + "/valid1.csv", "--epochs", "2", "--seed", "1", "--no-progress", "--out", directory + "/b1"])
        let repository = directory + "/repo"
        _ = try Self.clickwise(["publish", directory + "/b1", "--repository", repository, "--model", "tiny"])
        // Day 2: a third of the ads are new, a third of the tastes changed.
        _ = try Self.clickwise(["data", "synth", "--dataset-config", config, "--rows", "9000", "--seed", "1", "--drift", "0.3",
                                "--drift-seed", "2", "--out", directory + "/day2.csv"])
        let (rows, truth) = try Self.rows(directory + "/day2.csv")

        let server = try await TestServer.start(repository: repository) {
            $0.predictionLog = PredictionLog.Settings(directory: directory + "/log")
        }
        let core = server.application
        var generator = SeededGenerator(seed: 11)
        var clicks = "request_id,index,timestamp_ms\n"
        var failures = try Self.serve(rows[0..<5000], truth: truth, port: server.port, tag: "a", generator: &generator, clicks: &clicks)
        let log = try #require(core.predictionLog)
        #expect(await pollUntil(timeout: 30) { log.counts.written == 5000 })
        try clicks.write(toFile: directory + "/clicks.csv", atomically: true, encoding: .utf8)

        // Join, warm start, publish: version 2 knows the new ads.
        _ = try Self.clickwise(["data", "join", "--predictions", directory + "/log/tiny", "--clicks", directory + "/clicks.csv",
                                "--out", directory + "/joined.csv"])
        _ = try Self.clickwise(["train", "--warm-start", directory + "/b1", "--train", directory + "/joined.csv", "--epochs", "2",
                                "--no-progress", "--out", directory + "/b2"])
        _ = try Self.clickwise(["publish", directory + "/b2", "--repository", repository, "--model", "tiny"])
        // A 50/50 split, applied while a client keeps sending: no request may fail.
        try Data(#"{"weights": {"1": 50, "2": 50}}"#.utf8).write(to: URL(fileURLWithPath: repository + "/tiny/traffic.json"), options: .atomic)
        let during = SwapObservations()
        let stop = ManagedAtomicFlag()
        let done = DispatchGroup()
        done.enter()
        let body = Array(try JSONSerialization.data(withJSONObject: ["instances": [rows[0]]]))
        Thread { [port = server.port] in
            defer { done.leave() }
            let client = HTTPTestClient(port: port)
            while !stop.isSet {
                let response = try? client.send("POST", "/v1/models/tiny:predict", body: body)
                if response?.status != 200 { during.append("\(response?.status ?? 0)") }
            }
        }.start()
        await InferenceCore.offPool(name: "test-poll") { core.pollRepository() }
        stop.set()
        done.wait()
        failures += during.values
        #expect(Set(core.allEndpoints.map(\.bundle.version)) == ["1", "2"])

        // The split's traffic.
        failures += try Self.serve(rows[5000..<7000], truth: truth, port: server.port, tag: "b", generator: &generator, clicks: &clicks)
        #expect(failures.isEmpty, "\(failures.prefix(3))")

        // The comparison, on rows both versions scored: a sticky split gives each version its own users (here a few
        // heavy ones), and version 1 also served all of yesterday's first half; so version 1 answers and version 2
        // scores the same requests in shadow, logged apart (a fresh log directory holds only these).
        try Data(#"{"weights": {"1": 100}, "shadow": "2"}"#.utf8).write(to: URL(fileURLWithPath: repository + "/tiny/traffic.json"), options: .atomic)
        let compared = try await TestServer.start(repository: repository) {
            $0.predictionLog = PredictionLog.Settings(directory: directory + "/compare")
        }
        var comparedClicks = "request_id,index,timestamp_ms\n"
        failures += try Self.serve(rows[7000..<9000], truth: truth, port: compared.port, tag: "c", generator: &generator, clicks: &comparedClicks)
        let comparedLog = try #require(compared.application.predictionLog)
        #expect(await pollUntil(timeout: 30) { comparedLog.counts.written == 4000 })
        comparedLog.stop()
        await compared.stop()
        log.stop()
        // The first server last: a test server's stop removes the repository.
        await server.stop()
        try comparedClicks.write(toFile: directory + "/clicks.csv", atomically: true, encoding: .utf8)
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let json = directory + "/online.json"
        let output = try Self.clickwise(["evaluate", "--predictions", directory + "/compare/tiny", "--clicks", directory + "/clicks.csv", "--json", json])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let versions = try #require(report["versions"] as? [[String: Any]])
        let auc = Dictionary(uniqueKeysWithValues: versions.map { ($0["version"] as? String ?? "?", (($0["auc"] as? [String: Any])?["value"] as? Double) ?? 0) })
        #expect((auc["2"] ?? 0) > (auc["1"] ?? 1), "version 2 should rank above version 1: \(output.joined(separator: "\n"))")
    }
}
