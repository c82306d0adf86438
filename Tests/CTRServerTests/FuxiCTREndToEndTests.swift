import CTRFeatures
import ClickwiseTestSupport
import Foundation
import Synchronization
import Testing

/// A FuxiCTR user's path with the real binary: `clickwise import fuxictr` on what FuxiCTR wrote
/// (Tests/Fixtures/fuxictr, made by scripts/fuxictr_fixture with FuxiCTR 2.3.10 and torch), `clickwise
/// serve`, raw rows over the CTR API, and FuxiCTR's own predictions back (within 1e-5).
@Suite("FuxiCTR import end to end (real binary, real ONNX Runtime, real sockets)")
struct FuxiCTREndToEndTests {
    static let fixtures = ServeProcess.packageRoot + "/Tests/Fixtures/fuxictr"

    static func json(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))) as? [String: Any])
    }

    @Test("import, serve, post FuxiCTR's raw rows, and its per-feature tensors with Triton's clients and perf_analyzer: FuxiCTR's predictions within 1e-5")
    func importServeAndCompare() throws {
        let directory = try AnyDatasetEndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = directory + "/fuxi"
        let imported = try AnyDatasetEndToEndTests.run(["import", "fuxictr", Self.fixtures, "--out", bundle])
        #expect(imported.status == 0, "\(imported.output)")
        let map = try FeatureMap(contentsOf: URL(fileURLWithPath: bundle + "/features.json"))
        #expect(map.encoding == .fuxictr)
        #expect(map.signature.inputs.map(\.name) == ["user_id", "item_id", "cate", "ctx_plain", "price", "age", "score", "click_items", "tags"])

        let rows = try #require(try Self.json("raw_rows.json")["instances"] as? [[String: Any]])
        let expected = try #require(try Self.json("expected_predictions.json")["predictions"] as? [Double])
        #expect(rows.count == 200 && expected.count == 200)

        // Batching on, so rows of one request share a run and exercise the per-feature gather at several sizes.
        let (served, port, grpcPort) = try ServeProcessTests.serveBoth(["--model", bundle, "--max-rows-per-request", "128",
                                                                         "--max-batch-size", "64", "--max-queue-delay-us", "3000"])
        defer { served.stop() }
        let client = HTTPTestClient(port: port)
        var answered: [Double] = []
        for (start, size) in [(0, 1), (1, 7), (8, 64), (72, 64), (136, 64)] {
            var chunk = Array(rows[start..<(start + size)])
            if start == 8 {
                // The same rows with sequences as JSON arrays instead of joined strings, and a null for a missing value.
                chunk = chunk.map { row in
                    var row = row
                    for name in ["click_items", "tags"] {
                        if let text = row[name] as? String { row[name] = text.components(separatedBy: "^") }
                    }
                    if row["score"] == nil { row["score"] = NSNull() }
                    return row
                }
            }
            let body = try JSONSerialization.data(withJSONObject: ["instances": chunk])
            let response = try client.send("POST", "/v1/models/fuxi:predict", body: Array(body))
            try #require(response.status == 200, "\(response.text)")
            answered += try #require(response.json?["predictions"] as? [Double])
        }
        #expect(answered.count == expected.count)
        let worst = zip(answered, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest difference from FuxiCTR's predictions: \(worst)")

        // Concurrent requests, merged into shared batches by the queue, still get their own rows' predictions.
        let chunks = stride(from: 0, to: 200, by: 25).map { $0..<($0 + 25) }
        let bodies = try chunks.map { try JSONSerialization.data(withJSONObject: ["instances": Array(rows[$0])]) }
        let results = Mutex<[Int: [Double]]>([:])
        DispatchQueue.concurrentPerform(iterations: chunks.count) { index in
            let body = bodies[index]
            let response = try? HTTPTestClient(port: port).send("POST", "/v1/models/fuxi:predict", body: Array(body))
            results.withLock { $0[index] = response?.json?["predictions"] as? [Double] ?? [] }
        }
        let merged = results.withLock { all in chunks.indices.flatMap { all[$0] ?? [] } }
        #expect(merged.count == 200)
        #expect((zip(merged, expected).map { abs($0 - $1) }.max() ?? 1) < 1e-5)

        // The model metadata shows FuxiCTR's per-feature inputs.
        let metadata = try client.send("GET", "/v2/models/fuxi").json
        let inputs = try #require(metadata?["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["name"] as? String } == map.signature.inputs.map(\.name))

        // The same model over KServe v2 with its per-feature inputs: Triton's own clients on HTTP and gRPC, then perf_analyzer.
        let perfInput = directory + "/perf.json"
        let check = try ServeProcess(ServeProcessTests.python, [
            ServeProcess.packageRoot + "/scripts/fuxictr_v2_check.py", "127.0.0.1:\(port)", "127.0.0.1:\(grpcPort)", "fuxi", Self.fixtures,
            "--perf-input", perfInput], label: "fuxictr-v2")
        let status = try check.waitForExit(timeout: 120)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0 && check.output.contains("0 failed"), "\(check.output)")
        for (protocolName, url) in [("grpc", "127.0.0.1:\(grpcPort)"), ("http", "127.0.0.1:\(port)")] {
            let perf = try ServeProcess(ServeProcess.packageRoot + "/scripts/perf_analyzer",
                                        ["-m", "fuxi", "-u", url, "-i", protocolName, "--input-data", perfInput, "-b", "4",
                                         "--concurrency-range", "2", "--measurement-interval", "1000", "--max-trials", "4",
                                         "--stability-percentage", "1000"], label: "perf_analyzer-\(protocolName)")
            let perfStatus = try perf.waitForExit(timeout: 120)
            print(perf.output.suffix(8).joined(separator: "\n"))
            #expect(perfStatus == 0, "\(perf.output)")
            #expect(perf.output.contains { $0.contains("Throughput:") && $0.contains("infer/sec") }, "\(perf.output)")
            #expect(!perf.output.contains { $0.lowercased().contains("error") }, "\(perf.output)")
        }

        // A wrong id is refused before it reaches a batch, naming the input and FuxiCTR's index range.
        let encoded = try Self.json("encoded_rows.json")
        var tensors: [[String: Any]] = []
        for tensor in map.signature.inputs {
            let first = try #require((encoded[tensor.name] as? [Any])?.first)
            let values = tensor.name == "user_id" ? [100_000] : (first as? [Any] ?? [first])
            tensors.append(["name": tensor.name, "datatype": tensor.elementType.rawValue,
                            "shape": [1] + tensor.shape.dropFirst(), "data": values])
        }
        let infer = try client.send("POST", "/v2/models/fuxi/infer", body: Array(try JSONSerialization.data(withJSONObject: ["inputs": tensors])))
        #expect(infer.status == 400)
        #expect(infer.text.contains("user_id") && infer.text.contains("100000") && infer.text.contains("range"), "\(infer.text)")
    }
}
