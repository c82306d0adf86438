import ClickwiseTestSupport
import CTRFeatures
import CTRServing
import Foundation
import ONNXRuntime
import Testing
@testable import CTRServer

@Suite("HTTP server end to end (real sockets, real ONNX Runtime)")
struct HTTPServerTests {
    /// What ONNX Runtime itself says for these rows, encoded outside the server with the same vocabulary.
    static func directPredictions(_ rows: Range<Int>, bundle: String) throws -> [Float] {
        let runtime = try ORTRuntime.load()
        let environment = try ORTEnvironment.make(runtime: runtime)
        let options = try ORTSessionOptions(runtime: runtime)
        try options.setIntraOpThreads(1)
        let session = try ORTSession(path: bundle + "/model.onnx", options: options, environment: environment)
        let encoder = FeatureEncoder(map: TestServer.featureMap)
        var ids = [Int64](repeating: 0, count: rows.count * 26)
        var dense = [Float](repeating: 0, count: rows.count * 13)
        for (position, index) in rows.enumerated() {
            ids.withUnsafeMutableBufferPointer { idBuffer in
                dense.withUnsafeMutableBufferPointer { denseBuffer in
                    encoder.encode(TestRows.rawRow(index), ids: idBuffer.baseAddress! + position * 26, dense: denseBuffer.baseAddress! + position * 13)
                }
            }
        }
        let out = try session.run([ORTValue(ids, shape: [Int64(rows.count), 26], environment: environment),
                                   ORTValue(dense, shape: [Int64(rows.count), 13], environment: environment)])
        return try out[0].array(of: Float.self)
    }

    static func predictions(_ response: HTTPTestClient.Response) -> [Float]? {
        (response.json?["predictions"] as? [NSNumber])?.map { $0.floatValue }
    }

    @Test("CTR predictions over HTTP equal direct ONNX Runtime runs, in request order")
    func predictMatchesDirectRun() async throws {
        var pool = PoolConfiguration()
        pool.poolSize = 2
        let server = try await TestServer.start(pool: pool)
        let client = HTTPTestClient(port: server.port)
        let expected = try Self.directPredictions(0..<50, bundle: server.bundleDirectory)
        let many = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<50))
        #expect(many.status == 200)
        let got = try #require(Self.predictions(many))
        #expect(got.count == 50)
        #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        for index in 0..<10 {
            let one = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: index..<(index + 1)))
            #expect(one.status == 200)
            #expect(abs((Self.predictions(one)?.first ?? -1) - expected[index]) < 1e-6)
        }
        let empty = try client.send("POST", "/v1/models/tiny:predict", body: Array(#"{"instances":[]}"#.utf8))
        #expect(empty.status == 200 && empty.text == #"{"predictions":[]}"#)
        await server.stop()
    }

    @Test("batching merges concurrent requests and still answers each in order")
    func batchedConcurrentRequests() async throws {
        var pool = PoolConfiguration()
        pool.poolSize = 1
        pool.maxBatchSize = 64
        pool.maxQueueDelayMicroseconds = 2_000
        let server = try await TestServer.start(pool: pool) { $0.eventLoopThreads = 2 }
        let expected = try Self.directPredictions(0..<40, bundle: server.bundleDirectory)
        let port = server.port
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let client = HTTPTestClient(port: port)
                    var bad = 0
                    for round in 0..<25 {
                        let start = (worker * 5 + round) % 36
                        let count = 1 + (worker + round) % 4
                        let response = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: start..<(start + count)))
                        let got = Self.predictions(response) ?? []
                        if response.status != 200 || got.count != count
                            || zip(got, expected[start..<(start + count)]).contains(where: { abs($0 - $1) >= 1e-6 }) { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(try server.metrics().value("clickwise_batch_rows_count") ?? 0 > 0)
        await server.stop()
    }

    @Test("Expect: 100-continue gets an interim 100 before the body is sent")
    func expectContinue() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        let body = TestRows.body(rows: 0..<2)
        let head = "POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\n\r\n"
        #expect(try client.sendRaw(Array(head.utf8)).status == 100)
        let response = try client.sendRaw(body)
        #expect(response.status == 200)
        #expect(Self.predictions(response)?.count == 2)
        await server.stop()
    }

    @Test("pipelined requests are answered in order, including ones that wait for inference")
    func pipelinedRequestsInOrder() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        let expected = try Self.directPredictions(0..<4, bundle: server.bundleDirectory)
        var bytes: [UInt8] = []
        for index in 0..<4 {
            let body = TestRows.body(rows: index..<(index + 1))
            bytes += Array("POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
            bytes += Array("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        }
        var responses = [try client.sendRaw(bytes)]
        for _ in 1..<8 { responses.append(try client.receive()) }
        for index in 0..<4 {
            #expect(responses[2 * index].status == 200)
            #expect(abs((Self.predictions(responses[2 * index])?.first ?? -1) - expected[index]) < 1e-6)
            #expect(responses[2 * index + 1].text == #"{"live":true}"#)
        }
        // The connection is still usable afterwards.
        #expect(try client.send("GET", "/v2/health/ready").status == 200)
        await server.stop()
    }

    @Test("unparseable HTTP gets 400 with a JSON error and a close; a HEAD answer carries no body")
    func malformedHTTPAndHead() async throws {
        let server = try await TestServer.start()
        let bad = try HTTPTestClient(port: server.port).sendRaw(Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(bad.status == 400)
        #expect((bad.json?["error"] as? String)?.hasPrefix("malformed HTTP request") == true)
        #expect(bad.headers["connection"] == "close")
        let client = HTTPTestClient(port: server.port)
        let head = try client.sendRaw(Array("HEAD /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                                      expectBody: false)
        #expect(head.status == 405)
        #expect(head.headers["allow"] == "GET")
        // Had the HEAD answer carried its body, these bytes would not start with a status line.
        let next = try client.receive()
        #expect(next.status == 200 && next.text == #"{"live":true}"#)
        await server.stop()
    }

    @Test("a chunked request body is reassembled; an oversized one gets 413 and a close")
    func chunkedBodies() async throws {
        let server = try await TestServer.start { $0.maxBodyBytes = 4_096 }
        let expected = try Self.directPredictions(0..<3, bundle: server.bundleDirectory)
        let body = TestRows.body(rows: 0..<3)
        var bytes = Array("POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var offset = 0
        while offset < body.count {  // uneven chunks, so values straddle chunk boundaries
            let end = min(body.count, offset + 97)
            bytes += Array("\(String(end - offset, radix: 16))\r\n".utf8) + body[offset..<end] + Array("\r\n".utf8)
            offset = end
        }
        bytes += Array("0\r\n\r\n".utf8)
        let client = HTTPTestClient(port: server.port)
        let response = try client.sendRaw(bytes)
        #expect(response.status == 200)
        let got = Self.predictions(response) ?? []
        #expect(got.count == 3 && zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })

        let big = [UInt8](repeating: UInt8(ascii: " "), count: 5_000)
        var oversized = Array("POST /v1/models/tiny:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        oversized += Array("\(String(big.count, radix: 16))\r\n".utf8) + big + Array("\r\n0\r\n\r\n".utf8)
        let rejected = try HTTPTestClient(port: server.port).sendRaw(oversized)
        #expect(rejected.status == 413 && rejected.headers["connection"] == "close")
        #expect((rejected.json?["error"] as? String)?.contains("--max-body-bytes") == true)
        await server.stop()
    }

    @Test("HTTP/1.0 gets a 1.0 status line, keep-alive only when asked for")
    func http10() async throws {
        let server = try await TestServer.start()
        let plain = try HTTPTestClient(port: server.port).sendRaw(Array("GET /v2/health/live HTTP/1.0\r\n\r\n".utf8))
        #expect(plain.status == 200 && plain.version == "HTTP/1.0" && plain.headers["connection"] == "close")
        let client = HTTPTestClient(port: server.port)
        let kept = try client.sendRaw(Array("GET /v2/health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        #expect(kept.headers["connection"] == "keep-alive")
        #expect(try client.sendRaw(Array("GET /v2/health/ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8)).status == 200)
        await server.stop()
    }

    @Test("health, server and model metadata, metrics")
    func metadataEndpoints() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        #expect(try client.send("GET", "/v2/health/live").status == 200)
        #expect(try client.send("GET", "/v2/health/ready").status == 200)
        #expect(try client.send("GET", "/v2/models/tiny/ready").status == 200)
        #expect(try client.send("GET", "/v2/models/tiny/versions/1/ready").status == 200)
        let server2 = try client.send("GET", "/v2")
        #expect(server2.json?["name"] as? String == "clickwise")
        let metadata = try client.send("GET", "/v2/models/tiny")
        #expect(metadata.status == 200)
        let inputs = metadata.json?["inputs"] as? [[String: Any]]
        #expect(inputs?.compactMap { $0["name"] as? String } == ["sparse_ids", "dense"])
        #expect(inputs?.first?["datatype"] as? String == "INT64")
        #expect((inputs?.first?["shape"] as? [Int]) == [-1, 26])
        _ = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<3))
        let metrics = try client.send("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        let text = try PrometheusText(metrics.text)
        #expect(text.value("clickwise_requests_total", ["protocol": "http", "route": "predict", "status": "200"]) == 1)
        #expect(text.value("clickwise_rows_total") == 3)
        #expect(text.value("clickwise_queue_wait_seconds_count") == 1)
        #expect(text.value("clickwise_ort_run_seconds_count") == 1)
        // The scrape itself is the one request in flight.
        #expect(text.value("clickwise_inflight_requests") == 1)
        await server.stop()
    }

    @Test("KServe v2 infer with JSON tensors and with binary tensors")
    func v2Infer() async throws {
        let server = try await TestServer.start()
        let client = HTTPTestClient(port: server.port)
        let encoder = FeatureEncoder(map: TestServer.featureMap)
        var ids = [Int64](repeating: 0, count: 3 * 26), dense = [Float](repeating: 0, count: 3 * 13)
        for row in 0..<3 {
            ids.withUnsafeMutableBufferPointer { i in dense.withUnsafeMutableBufferPointer { d in
                encoder.encode(TestRows.rawRow(row), ids: i.baseAddress! + row * 26, dense: d.baseAddress! + row * 13)
            } }
        }
        let expected = try Self.directPredictions(0..<3, bundle: server.bundleDirectory)
        let json: [String: Any] = ["id": "r1", "inputs": [
            ["name": "sparse_ids", "datatype": "INT64", "shape": [3, 26], "data": ids.map { Int($0) }],
            ["name": "dense", "datatype": "FP32", "shape": [3, 13], "data": dense.map { Double($0) }],
        ]]
        let response = try client.send("POST", "/v2/models/tiny/infer", body: Array(try JSONSerialization.data(withJSONObject: json)))
        #expect(response.status == 200)
        let outputs = response.json?["outputs"] as? [[String: Any]]
        #expect(response.json?["id"] as? String == "r1")
        let data = (outputs?.first?["data"] as? [NSNumber])?.map(\.floatValue) ?? []
        #expect(data.count == 3 && zip(data, expected).allSatisfy { abs($0 - $1) < 1e-6 })

        // Binary extension: JSON header, then raw little-endian tensors; binary output requested.
        let header = #"{"inputs":[{"name":"sparse_ids","datatype":"INT64","shape":[3,26],"parameters":{"binary_data_size":624}},{"name":"dense","datatype":"FP32","shape":[3,13],"parameters":{"binary_data_size":156}}],"outputs":[{"name":"probability","parameters":{"binary_data":true}}]}"#
        var body = Array(header.utf8)
        ids.withUnsafeBytes { body.append(contentsOf: $0) }
        dense.withUnsafeBytes { body.append(contentsOf: $0) }
        let binary = try client.send("POST", "/v2/models/tiny/infer", headers: ["Inference-Header-Content-Length": String(header.utf8.count)], body: body)
        #expect(binary.status == 200)
        let jsonLength = try #require(Int(binary.headers["inference-header-content-length"] ?? ""))
        let tail = Array(binary.body[jsonLength...])
        #expect(tail.count == 12)
        let floats = tail.withUnsafeBytes { raw in (0..<3).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        #expect(zip(floats, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        await server.stop()
    }

    @Test("a full queue answers 503 with Retry-After while earlier requests still complete")
    func queueFull() async throws {
        var pool = PoolConfiguration()
        pool.maxQueueSize = 1
        let server = try await TestServer.start(pool: pool, model: "criteo_slow.onnx")
        let port = server.port
        // Blocking clients run on threads of their own: the cooperative pool (one thread per core) must stay free.
        let statuses = StatusBox()
        let done = DispatchGroup()
        func sendOnThread(rows: Range<Int>) {
            done.enter()
            Thread {
                statuses.append((try? HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: rows)).status) ?? -1)
                done.leave()
            }.start()
        }
        let endpoint = server.application.endpoints["tiny"]!
        // A 200-row request on the slow model keeps the only inference thread busy for a good fraction of a second.
        sendOnThread(rows: 0..<200)
        try #require(waitUntil { server.application.metrics.runningBatches > 0 }, "the big job never started: running \(server.application.metrics.runningBatches), statuses \(statuses.values), queued \(endpoint.pool.queueDepth)")
        // The thread has taken the big job: one more fills the queue, the next is refused.
        sendOnThread(rows: 0..<1)
        try #require(waitUntil { endpoint.pool.queueDepth > 0 }, "the second job never queued")
        let refused = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<1))
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] == "1")
        #expect((refused.json?["error"] as? String)?.contains("queue is full") == true)
        done.wait()
        #expect(statuses.values == [200, 200])
        #expect(try server.metrics().value("clickwise_queue_rejected_total") == 1)
        await server.stop()
    }

    @Test("a request whose deadline passes in the queue gets 504 and is counted")
    func deadlineExpires() async throws {
        var pool = PoolConfiguration()
        pool.maxBatchSize = 64
        pool.maxQueueDelayMicroseconds = 50_000
        let server = try await TestServer.start(pool: pool)
        let client = HTTPTestClient(port: server.port)
        let response = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Timeout-Ms": "1"], body: TestRows.body(rows: 0..<1))
        #expect(response.status == 504)
        #expect((response.json?["error"] as? String)?.contains("deadline") == true)
        let metrics = try server.metrics()
        #expect(metrics.value("clickwise_queue_expired_total") == 1)
        #expect(metrics.value("nv_inference_request_failure", ["model": "tiny", "version": "1"]) == 1)
        #expect(metrics.value("nv_inference_request_success", ["model": "tiny", "version": "1"]) == 0)
        let ok = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Timeout-Ms": "5000"], body: TestRows.body(rows: 0..<1))
        #expect(ok.status == 200)
        await server.stop()
    }
}
