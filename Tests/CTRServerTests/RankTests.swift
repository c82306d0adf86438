import ClickwiseTestSupport
import CTRFeatures
import CTRModels
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

/// `serve --item-table` (issue 24 item 4): candidates named by id only, their item fields from a CSV encoded once.
@Suite("Ranking candidates by id from an item table")
struct ItemTableServingTests {
    /// Items keyed by C14 with C15-C26 and no numbers: item `k`'s fields are those of test row `k`'s candidate side.
    static func csv(items: Range<Int>, tweak: (Int, inout [String: Any]) -> Void = { _, _ in }) -> (text: String, keys: [String]) {
        let columns = (14...26).map { "C\($0)" }
        var lines = [columns.joined(separator: ",")], keys: [String] = []
        for item in items {
            var candidate = RankTests.split(TestRows.row(item)).candidate
            let key = "item\(item)"
            candidate["C14"] = key
            tweak(item, &candidate)
            keys.append(key)
            lines.append(columns.map { (candidate[$0] as? String) ?? "" }.joined(separator: ","))
        }
        return (lines.joined(separator: "\n") + "\n", keys)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-items-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, to path: String) throws {
        // Written beside and renamed, as a publisher would: the poll never sees half a file.
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// :predict on the rows the table describes, merged with `context`.
    static func expected(_ client: HTTPTestClient, context: [String: Any], rows: [[String: Any]]) throws -> [Double] {
        let merged = rows.map { context.merging($0) { _, own in own } }
        let flat = try client.send("POST", "/v1/models/tiny:predict", body: RankTests.json(["instances": merged]))
        return try #require(flat.json?["predictions"] as? [Double])
    }

    @Test("ids alone score as the full rows; a candidate's own field wins; unknown ids get missing values and are counted")
    func candidatesById() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("items.csv").path
        let table = Self.csv(items: 0..<10)
        try Self.write(table.text, to: path)
        let server = try await TestServer.start { $0.itemTables = [ItemTableSetting(model: "tiny", path: path)] }
        let client = HTTPTestClient(port: server.port)
        let context = RankTests.split(TestRows.row(3)).context
        var candidates: [[String: Any]] = table.keys.map { ["C14": $0] }
        candidates[2]["C20"] = "c19v7"  // the candidate's own value beats the table's
        candidates.append(["C14": "nope"])
        var rows = (0..<10).map { item -> [String: Any] in
            var row = RankTests.split(TestRows.row(item)).candidate
            row["C14"] = "item\(item)"
            return row
        }
        rows[2]["C20"] = "c19v7"
        rows.append(["C14": "nope"])
        let expected = try Self.expected(client, context: context, rows: rows)
        let ranked = try client.send("POST", "/v1/models/tiny:rank", body: RankTests.json(["context": context, "candidates": candidates]))
        #expect(ranked.status == 200, "\(ranked.text)")
        let scores = try #require(ranked.json?["scores"] as? [Double])
        #expect(scores.count == 11 && zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(scores) vs \(expected)")
        #expect(Set(scores).count > 5, "the items must score differently: \(scores)")
        let labels = ["model": "tiny", "version": "1"]
        #expect(try server.metrics().value("clickwise_item_table_unknown_ids_total", labels) == 1)
        #expect(try server.metrics().value("clickwise_item_table_items", labels) == 10)

        // A changed file is re-read: item 0 now has item 5's fields, and a new item appears.
        let changed = Self.csv(items: 0..<11) { item, candidate in
            if item == 0 { candidate = RankTests.split(TestRows.row(5)).candidate; candidate["C14"] = "item0" }
        }
        try Self.write(changed.text, to: path)
        server.application.itemTables.poll(Array(server.application.endpoints.values), logger: server.application.logger)
        var item0 = RankTests.split(TestRows.row(5)).candidate
        item0["C14"] = "item0"
        var item10 = RankTests.split(TestRows.row(10)).candidate
        item10["C14"] = "item10"
        let reloadedExpected = try Self.expected(client, context: context, rows: [item0, item10])
        let reloaded = try client.send("POST", "/v1/models/tiny:rank", body: RankTests.json(["context": context, "candidates": [["C14": "item0"], ["C14": "item10"]]]))
        let reloadedScores = try #require(reloaded.json?["scores"] as? [Double])
        #expect(zip(reloadedScores, reloadedExpected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(reloadedScores) vs \(reloadedExpected)")
        #expect(try server.metrics().value("clickwise_item_table_items", labels) == 11)

        // A broken file (an item listed twice) keeps the table read before.
        try Self.write(changed.text + "item3,,,,,,,,,,,,\n", to: path)
        server.application.itemTables.poll(Array(server.application.endpoints.values), logger: server.application.logger)
        let kept = try client.send("POST", "/v1/models/tiny:rank", body: RankTests.json(["context": context, "candidates": [["C14": "item0"], ["C14": "item10"]]]))
        #expect((kept.json?["scores"] as? [Double]) == reloadedScores, "\(kept.text)")
        await server.stop()
    }

    @Test("a table that cannot serve its model stops the start, naming the file, line or column")
    func badTablesAtStart() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String)] = [
            ("C14,C15,colour\nitem1,a,red\n", "column \"colour\" is not a field of the model"),
            ("I1,C15\n3,a\n", "the key column \"I1\" (the first column) is not a categorical field"),
            ("C14,I2\nitem1,3\nitem2,lots\n", "items.csv:3: I2 \"lots\" is not a number"),
            ("C14,C15\nitem1,a\nitem1,b\n", "items.csv:3: item \"item1\" is listed twice (first on line 2)"),
        ]
        for (text, mentions) in cases {
            let path = directory.appendingPathComponent("items.csv").path
            try Self.write(text, to: path)
            let repository = try TestServer.makeRepository()
            var configuration = ServerConfiguration(modelPath: repository)
            configuration.itemTables = [ItemTableSetting(argument: "tiny=" + path)]
            #expect { _ = try InferenceCore.build(configuration) } throws: { error in
                "\(error)".contains(mentions)
            }
        }
        var configuration = ServerConfiguration(modelPath: try TestServer.makeRepository())
        configuration.itemTables = [ItemTableSetting(argument: "other=/nonexistent.csv")]
        #expect(throws: ServingError.self) { _ = try InferenceCore.build(configuration) }
    }
}

/// A bundle trained here with context fields carries ranking.onnx (issue 24 item 3); `:rank` runs it when every
/// candidate leaves the context fields to the context, and its scores equal `:predict`'s (the flat graph's).
@Suite("Ranking requests on the bundle's ranking graph")
struct RankingGraphServingTests {
    /// A DeepFM over the test vocabulary with the integers and C1-C13 marked `source: user`, written as a bundle
    /// with both graphs; returns the repository root.
    static func makeRepository(architecture: ModelArchitecture) throws -> String {
        let base = TestServer.featureMap
        var schema = base.schema
        for index in schema.fields.indices {
            let name = schema.fields[index].name
            if name.hasPrefix("I") || (Int(name.dropFirst()).map { $0 <= 13 } ?? false) { schema.fields[index].source = "user" }
        }
        let map = try FeatureMap(schema: schema, vocabularies: base.vocabularies, denseScales: base.denseScales,
                                 numericShifts: base.numericShifts, sequenceLengths: [], minCount: 10)
        var hyperparameters = ModelHyperparameters()
        hyperparameters.embeddingDimension = 8
        hyperparameters.hiddenUnits = [32, 16]
        hyperparameters.autoIntHiddenUnits = [32]
        hyperparameters.attentionLayers = 1
        hyperparameters.attentionDimension = 8
        let shape = ModelShape(vocabularySize: map.totalVocabularySize, sparseFields: 26, denseFields: 13)
        let model = architecture.makeModel(shape: shape, hyperparameters: hyperparameters, maxBatch: 64, seed: 3)
        var generator = SeededGenerator(seed: 4)
        for table in model.embeddingTables { table.fillNormal(std: 0.3, using: &generator) }
        for parameter in model.parameters { parameter.fillNormal(std: 1 / Double(parameter.shape.first ?? 1).squareRoot(), using: &generator) }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-ranking-\(UUID().uuidString)")
        let bundle = root.appendingPathComponent("tiny/1")
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        try map.write(to: bundle.appendingPathComponent("features.json"))
        var options = ONNXExporter.Options()
        options.featureMapFingerprint = map.fingerprint
        try ONNXExporter.write(model, options: options, to: bundle.appendingPathComponent("model.onnx"))
        #expect(try ONNXExporter.writeRanking(model, schema: map.schema, options: options, to: bundle.appendingPathComponent("ranking.onnx")))
        return root.path
    }

    @Test("scores equal :predict on the merged rows, on the ranking graph; overriding candidates fall back to the flat graph",
          arguments: [ModelArchitecture.deepfm, .autoint, .dcnv2, .lr])
    func ranksOnTheRankingGraph(architecture: ModelArchitecture) async throws {
        // Rows of concurrent requests merge (a queue delay lets them gather), and large runs split across two threads.
        var pool = PoolConfiguration()
        pool.maxBatchSize = 256
        pool.maxQueueDelayMicroseconds = 30_000
        pool.splitThreads = 1
        let server = try await TestServer.start(pool: pool, repository: try Self.makeRepository(architecture: architecture))
        let endpoint = try #require(server.application.endpoints["tiny"])
        let rankingPool = try #require(endpoint.rankingPool)
        let client = HTTPTestClient(port: server.port)
        for round in 0..<3 {
            let context = RankTests.split(TestRows.row(round)).context
            var candidates = (0..<(20 + round * 30)).map { RankTests.split(TestRows.row($0 + round)).candidate }
            if round == 2 { candidates[4]["I2"] = 77 }  // a context field of its own: this request takes the flat graph
            let merged = candidates.map { context.merging($0) { _, own in own } }
            let flat = try client.send("POST", "/v1/models/tiny:predict", body: RankTests.json(["instances": merged]))
            let expected = try #require(flat.json?["predictions"] as? [Double])
            let runsBefore = try server.metrics().value("nv_inference_exec_count", ["model": "tiny", "version": "1"]) ?? 0
            let rankingBefore = rankingPool.executions
            let ranked = try client.send("POST", "/v1/models/tiny:rank", body: RankTests.json(["context": context, "candidates": candidates, "top_k": 2]))
            #expect(ranked.status == 200, "\(ranked.text)")
            let scores = try #require(ranked.json?["scores"] as? [Double])
            let worst = zip(scores, expected).map { abs($0 - $1) }.max() ?? 1
            #expect(scores.count == expected.count && worst < 1e-5, "\(architecture) round \(round): \(worst)")
            #expect(Set(scores.map { ($0 * 1e4).rounded() }).count > 3, "the candidates must score differently")
            // One run either way, counted in the model's one set of statistics; on the ranking graph unless overridden.
            #expect(try server.metrics().value("nv_inference_exec_count", ["model": "tiny", "version": "1"]) == runsBefore + 1)
            #expect(rankingPool.executions == rankingBefore + (round == 2 ? 0 : 1), "round \(round)")
        }
        // A split run hands each half the whole context rows and its own request indexes.
        #expect(rankingPool.splitRuns >= 1)
        // Concurrent rankings share runs of the ranking graph (request_index maps each candidate to its context).
        let executionsBefore = rankingPool.executions
        let requests = (0..<16).map { r in
            (context: RankTests.split(TestRows.row(r * 3)).context, candidates: (0..<(5 + r)).map { RankTests.split(TestRows.row(r + $0)).candidate })
        }
        let expected = try requests.map { request in
            let merged = request.candidates.map { request.context.merging($0) { _, own in own } }
            return try #require(try client.send("POST", "/v1/models/tiny:predict", body: RankTests.json(["instances": merged])).json?["predictions"] as? [Double])
        }
        // The 16 jobs go straight into the ranking pool, back to back, so they are queued together whatever the
        // machine's load (HTTP clients on a 2-core runner, or under ThreadSanitizer, may arrive one at a time).
        let layout = try #require(rankingPool.ranking), decoder = try #require(endpoint.decoder), encoder = layout.encoding.encoder
        let answers = Mutex([[Double]](repeating: [], count: requests.count))
        let finished = Atomic<Int>(0)
        var candidates = DecodedInstances(), context = DecodedInstances()
        for (index, request) in requests.enumerated() {
            let body = try RankTests.json(["context": request.context, "candidates": request.candidates])
            _ = try body.withUnsafeBytes { bytes in try decoder.decodeRank(bytes, candidates: &candidates, context: &context) }
            let job = layout.makeJob(candidates: candidates.count) { outcome in
                if case .success(let outputs) = outcome { answers.withLock { $0[index] = outputs[0].floats.map(Double.init) } }
                finished.add(1, ordering: .releasing)
            }
            layout.encode(into: job) { out in
                InferenceCore.encode(candidates, with: encoder, into: out)
                InferenceCore.fillFromContext(context, candidates: candidates, encoder: encoder, into: out)
            }
            try rankingPool.submit(job)
        }
        try #require(await pollUntil(timeout: 60) { finished.load(ordering: .acquiring) == requests.count })
        let answered = answers.withLock { $0 }
        for (index, scores) in answered.enumerated() {
            #expect(scores.count == expected[index].count && zip(scores, expected[index]).allSatisfy { abs($0 - $1) < 1e-5 }, "request \(index)")
        }
        #expect(rankingPool.executions - executionsBefore < requests.count, "16 concurrent requests in \(rankingPool.executions - executionsBefore) runs")
        await server.stop()
    }
}

/// The ranking graph over KServe v2 (issue 24 item 2): Triton's own clients send one context and its candidates as
/// the ranking inputs to the model's infer endpoint, over HTTP and gRPC, and get the flat inputs' answers.
@Suite("Ranking inputs over KServe v2 with tritonclient (real binary)")
struct RankingV2Tests {
    @Test("tritonclient http and grpc: ranking inputs answer as the flat inputs; a two-row context and a bad id are refused")
    func tritonClientsRank() throws {
        let repository = try RankingGraphServingTests.makeRepository(architecture: .deepfm)
        defer { try? FileManager.default.removeItem(atPath: repository) }
        let map = try FeatureMap(contentsOf: URL(fileURLWithPath: repository + "/tiny/1/features.json"))
        let encoder = FeatureEncoder(map: map)
        let context = (categorical: map.schema.categoricalFields.indices.filter { map.schema.categoricalFields[$0].isContext },
                       numeric: map.schema.numericFields.indices.filter { map.schema.numericFields[$0].isContext })
        let item = (categorical: map.schema.categoricalFields.indices.filter { !map.schema.categoricalFields[$0].isContext },
                    numeric: map.schema.numericFields.indices.filter { !map.schema.numericFields[$0].isContext })
        // Each request: a context row's context fields, and candidates whose other fields come from other rows.
        var requests: [[String: Any]] = []
        for r in 0..<6 {
            let count = 1 + r * 7
            var ids = [Int64](repeating: 0, count: 26), dense = [Float](repeating: 0, count: 13)
            encoder.encode(TestRows.rawRow(r * 11), ids: &ids, dense: &dense)
            let contextIDs = context.categorical.map { ids[$0] }, contextDense = context.numeric.map { dense[$0] }
            var flatIDs: [[Int64]] = [], flatDense: [[Float]] = [], itemIDs: [[Int64]] = [], itemDense: [[Float]] = []
            for c in 0..<count {
                var rowIDs = [Int64](repeating: 0, count: 26), rowDense = [Float](repeating: 0, count: 13)
                encoder.encode(TestRows.rawRow(100 + r * 20 + c), ids: &rowIDs, dense: &rowDense)
                for (position, field) in context.categorical.enumerated() { rowIDs[field] = contextIDs[position] }
                for (position, field) in context.numeric.enumerated() { rowDense[field] = contextDense[position] }
                flatIDs.append(rowIDs)
                flatDense.append(rowDense)
                itemIDs.append(item.categorical.map { rowIDs[$0] })
                itemDense.append(item.numeric.map { rowDense[$0] })
            }
            var request: [String: Any] = ["context_sparse_ids": [contextIDs], "sparse_ids": itemIDs,
                                          "flat": ["sparse_ids": flatIDs, "dense": flatDense]]
            if !contextDense.isEmpty { request["context_dense"] = [contextDense] }
            if !item.numeric.isEmpty { request["dense"] = itemDense }
            requests.append(request)
        }
        let file = repository + "/ranking_requests.json"
        try JSONSerialization.data(withJSONObject: requests).write(to: URL(fileURLWithPath: file))

        let (served, http, grpc) = try ServeProcessTests.serveBoth(["--model", repository])
        defer { served.stop() }
        let check = try ServeProcess(ServeProcessTests.python, [
            ServeProcess.packageRoot + "/scripts/ranking_v2_check.py", "127.0.0.1:\(http)", "127.0.0.1:\(grpc)", "tiny", file], label: "ranking-v2")
        let status = try check.waitForExit(timeout: 120)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0 && check.output.filter { $0.hasPrefix("ok ") }.count == 6, "\(check.output)")
    }
}
