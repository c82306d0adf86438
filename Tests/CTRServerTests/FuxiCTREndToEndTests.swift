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

    @Test("import, serve, post FuxiCTR's raw rows: FuxiCTR's predictions within 1e-5; v2 infer is a 400 saying why")
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
        let (served, port) = try ServeProcessTests.serve(["--model", bundle, "--max-rows-per-request", "64", "--max-queue-delay-us", "3000"])
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

        let infer = try client.send("POST", "/v2/models/fuxi/infer", body: Array(
            #"{"inputs":[{"name":"user_id","datatype":"INT64","shape":[1],"data":[1]}]}"#.utf8))
        #expect(infer.status == 400)
        #expect(infer.text.contains("FuxiCTR") && infer.text.contains("/v1/models/fuxi:predict"), "\(infer.text)")
    }
}
