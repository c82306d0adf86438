import ClickwiseTestSupport
import CTRServing
import Foundation
import Synchronization
import Testing
@testable import CTRServer

/// `POST /v1/models/{m}:rank` (issue 24 item 2): one context and N candidates in one request, real HTTP and real
/// ONNX Runtime; the scores must equal `:predict` on the merged rows.
@Suite("Ranking requests on the CTR API")
struct RankTests {
    /// The test bundle's Criteo fields split as a ranking request would: the integers and C1-C13 as the context
    /// (user and page), C14-C26 per candidate (the item).
    static func split(_ row: [String: Any]) -> (context: [String: Any], candidate: [String: Any]) {
        var context: [String: Any] = [:], candidate: [String: Any] = [:]
        for (key, value) in row {
            if key.hasPrefix("C"), let number = Int(key.dropFirst()), number >= 14 { candidate[key] = value } else { context[key] = value }
        }
        return (context, candidate)
    }

    static func json(_ object: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object)) }

    @Test("scores equal :predict on the merged rows; a candidate's own field wins; top_k lists the best first")
    func ranksLikePredict() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        let context = Self.split(TestRows.row(0)).context
        var candidates = (0..<12).map { Self.split(TestRows.row($0)).candidate }
        candidates[3]["I2"] = 77  // overrides the context's I2 for this candidate only
        candidates[5]["C3"] = NSNull()  // null: takes the context's value
        let merged = candidates.map { candidate in context.merging(candidate.filter { !($0.value is NSNull) }) { _, own in own } }
        let flat = try client.send("POST", "/v1/models/tiny:predict", body: Self.json(["instances": merged]))
        let expected = try #require(flat.json?["predictions"] as? [Double])
        let ranked = try client.send("POST", "/v1/models/tiny:rank", body: Self.json(["context": context, "candidates": candidates, "top_k": 3]))
        #expect(ranked.status == 200, "\(ranked.text)")
        let scores = try #require(ranked.json?["scores"] as? [Double])
        #expect(scores.count == 12)
        #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(scores) vs \(expected)")
        #expect(Set(scores).count > 1, "the candidates must score differently: \(scores)")
        let top = try #require(ranked.json?["top"] as? [[String: Any]])
        let best = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(3)
        #expect(top.compactMap { $0["index"] as? Int } == Array(best), "\(top)")
        #expect(ranked.json?["top"] != nil)
        // Without top_k there is no list; without a context every field comes from the candidate.
        let plain = try client.send("POST", "/v1/models/tiny:rank", body: Self.json(["candidates": merged]))
        #expect(plain.json?["top"] == nil && (plain.json?["scores"] as? [Double]).map { zip($0, expected).allSatisfy { abs($0 - $1) < 1e-6 } } == true)
        await server.stop()
    }

    @Test("bad ranking requests are 400s naming the candidate and field; no candidates is an empty answer")
    func refusals() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        let cases: [(String, String)] = [
            (#"{"context":{"I1":1},"candidates":[{"C14":"a"},{"C14":"b"},{"C14":{"x":1}}]}"#, "candidates[2].C14"),
            (#"{"context":{"I1":"abc"},"candidates":[{}]}"#, "context.I1"),
            (#"{"context":{},"candidates":[{"nope":1}]}"#, "candidates[0]: unknown feature \"nope\""),
            (#"{"context":{}}"#, "missing key \"candidates\""),
            (#"{"candidates":[],"top_k":0}"#, "top_k"),
            (#"{"candidates":[],"extra":1}"#, "unknown key \"extra\""),
        ]
        for (body, mentions) in cases {
            let response = try client.send("POST", "/v1/models/tiny:rank", body: Array(body.utf8))
            #expect(response.status == 400, "\(body): \(response.status) \(response.text)")
            #expect((response.json?["error"] as? String)?.contains(mentions) == true, "\(body): \(response.text)")
        }
        let empty = try client.send("POST", "/v1/models/tiny:rank", body: Array(#"{"candidates":[],"top_k":5}"#.utf8))
        #expect(empty.status == 200 && empty.text == #"{"scores":[],"top":[]}"#, "\(empty.text)")
        let tooMany = try client.send("POST", "/v1/models/tiny:rank", body: Self.json(["candidates": Array(repeating: [String: Any](), count: 1_001)]))
        #expect(tooMany.status == 413 && tooMany.text.contains("too many candidates"), "\(tooMany.text)")
        await server.stop()
    }
}

/// A large request's run split across its inference thread and a split thread (issue 24 item 5).
@Suite("Split runs of large requests")
struct SplitRunTests {
    @Test("a split thread runs half of each large request: answers equal ONNX Runtime's, concurrently, small requests unsplit")
    func splitRunsAnswerRight() async throws {
        var pool = PoolConfiguration()
        pool.splitThreads = 1
        pool.splitMinRows = 32
        pool.maxBatchSize = 64
        let server = try await TestServer.start(pool: pool)
        let endpoint = try #require(server.application.endpoints["tiny"])
        let expected = try HTTPServerTests.directPredictions(0..<200, bundle: server.bundleDirectory)
        // Odd sizes too, so the halves are unequal; several at once, so the one split thread is contended.
        let sizes = [200, 101, 37, 64, 200, 33]
        let answers = Mutex<[Int: [Double]]>([:])
        DispatchQueue.concurrentPerform(iterations: sizes.count) { index in
            let response = try? HTTPTestClient(port: server.port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<sizes[index]))
            answers.withLock { $0[index] = response?.json?["predictions"] as? [Double] ?? [] }
        }
        for (index, size) in sizes.enumerated() {
            let got = answers.withLock { $0[index] } ?? []
            #expect(got.count == size && zip(got, expected).allSatisfy { abs($0 - Double($1)) < 1e-6 }, "request of \(size) rows")
        }
        #expect(endpoint.pool.splitRuns > 0, "no run was split")
        let before = endpoint.pool.splitRuns
        _ = try HTTPTestClient(port: server.port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<8))
        #expect(endpoint.pool.splitRuns == before, "an 8-row request was split")
        await server.stop()
    }
}
