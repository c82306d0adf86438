import CTRServing
import Foundation
import Testing
@testable import CTRServer

@Suite("Bad input gets a clear 4xx and never disturbs good requests")
struct ServerFailureTests {
    struct BadCase: Sendable, CustomStringConvertible {
        let name: String
        let method: String
        let path: String
        let headers: [String: String]
        let body: [UInt8]
        let status: Int
        let mentions: String
        var description: String { name }
    }

    static let cases: [BadCase] = [
        BadCase(name: "malformed JSON", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array(#"{"instances":[{"I1":5,}]}"#.utf8), status: 400, mentions: "byte"),
        BadCase(name: "not an object", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array("[1,2]".utf8), status: 400, mentions: "instances"),
        BadCase(name: "unknown model", method: "POST", path: "/v1/models/nope:predict", headers: [:],
                body: Array(#"{"instances":[{}]}"#.utf8), status: 404, mentions: "nope"),
        BadCase(name: "wrong type for a dense feature", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array(#"{"instances":[{"I1":5},{"I3":"abc"}]}"#.utf8), status: 400, mentions: "I3"),
        BadCase(name: "wrong type for a categorical feature", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array(#"{"instances":[{"C2":[1]}]}"#.utf8), status: 400, mentions: "C2"),
        BadCase(name: "unknown feature", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array(#"{"instances":[{"C27":"x"}]}"#.utf8), status: 400, mentions: "C27"),
        BadCase(name: "too many rows", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: TestRows.body(rows: 0..<11), status: 413, mentions: "11"),
        BadCase(name: "oversized body", method: "POST", path: "/v1/models/tiny:predict", headers: [:],
                body: Array(repeating: UInt8(ascii: " "), count: 70_000), status: 413, mentions: "65536"),
        BadCase(name: "bad binary header value", method: "POST", path: "/v2/models/tiny/infer", headers: ["Inference-Header-Content-Length": "abc"],
                body: Array(#"{"inputs":[]}"#.utf8), status: 400, mentions: "Inference-Header-Content-Length"),
        BadCase(name: "binary header longer than the body", method: "POST", path: "/v2/models/tiny/infer", headers: ["Inference-Header-Content-Length": "500"],
                body: Array(#"{"inputs":[]}"#.utf8), status: 400, mentions: "500"),
        BadCase(name: "binary sizes that do not add up", method: "POST", path: "/v2/models/tiny/infer",
                headers: ["Inference-Header-Content-Length": "\(#"{"inputs":[{"name":"dense","datatype":"FP32","shape":[1,13],"parameters":{"binary_data_size":52}}]}"#.utf8.count)"],
                body: Array(#"{"inputs":[{"name":"dense","datatype":"FP32","shape":[1,13],"parameters":{"binary_data_size":52}}]}"#.utf8) + [1, 2, 3],
                status: 400, mentions: "dense"),
        BadCase(name: "v2 wrong datatype", method: "POST", path: "/v2/models/tiny/infer", headers: [:],
                body: Array(#"{"inputs":[{"name":"sparse_ids","datatype":"FP32","shape":[1,26],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},{"name":"dense","datatype":"FP32","shape":[1,13],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0]}]}"#.utf8),
                status: 400, mentions: "sparse_ids"),
        BadCase(name: "v2 wrong shape", method: "POST", path: "/v2/models/tiny/infer", headers: [:],
                body: Array(#"{"inputs":[{"name":"sparse_ids","datatype":"INT64","shape":[1,2],"data":[0,0]},{"name":"dense","datatype":"FP32","shape":[1,13],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0]}]}"#.utf8),
                status: 400, mentions: "[-1,26]"),
        BadCase(name: "v2 missing input", method: "POST", path: "/v2/models/tiny/infer", headers: [:],
                body: Array(#"{"inputs":[{"name":"dense","datatype":"FP32","shape":[1,13],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0]}]}"#.utf8),
                status: 400, mentions: "sparse_ids"),
        BadCase(name: "v2 id out of the vocabulary range", method: "POST", path: "/v2/models/tiny/infer", headers: [:],
                body: Array(#"{"inputs":[{"name":"sparse_ids","datatype":"INT64","shape":[1,26],"data":[99999,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},{"name":"dense","datatype":"FP32","shape":[1,13],"data":[0,0,0,0,0,0,0,0,0,0,0,0,0]}]}"#.utf8),
                status: 400, mentions: "99999"),
        BadCase(name: "bad timeout header", method: "POST", path: "/v1/models/tiny:predict", headers: ["X-Request-Timeout-Ms": "soon"],
                body: TestRows.body(rows: 0..<1), status: 400, mentions: "X-Request-Timeout-Ms"),
        BadCase(name: "unknown route", method: "GET", path: "/v3/nothing", headers: [:], body: [], status: 404, mentions: "/v3/nothing"),
        BadCase(name: "wrong method", method: "GET", path: "/v1/models/tiny:predict", headers: [:], body: [], status: 405, mentions: "POST"),
        BadCase(name: "unknown version", method: "GET", path: "/v2/models/tiny/versions/7", headers: [:], body: [], status: 404, mentions: "7"),
    ]

    static func startServer() async throws -> TestServer {
        try await TestServer.start { configuration in
            configuration.maxRowsPerRequest = 10
            configuration.maxBodyBytes = 65_536
            configuration.eventLoopThreads = 2
        }
    }

    @Test("each bad request gets its status and a JSON error naming the problem")
    func badRequests() async throws {
        let server = try await Self.startServer()
        for bad in Self.cases {
            let client = HTTPTestClient(port: server.port)
            let response = try client.send(bad.method, bad.path, headers: bad.headers, body: bad.body)
            #expect(response.status == bad.status, "\(bad.name): \(response.status) \(response.text)")
            let message = response.json?["error"] as? String ?? ""
            #expect(message.contains(bad.mentions), "\(bad.name): error \"\(message)\" should mention \(bad.mentions)")
            #expect(response.headers["content-type"] == "application/json", "\(bad.name)")
        }
        // The server is still healthy afterwards.
        let client = HTTPTestClient(port: server.port)
        #expect(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<2)).status == 200)
        await server.stop()
    }

    @Test("concurrent good requests stay correct while bad requests and unparseable HTTP are rejected")
    func goodAndBadTogether() async throws {
        let server = try await Self.startServer()
        let expected = try HTTPServerTests.directPredictions(0..<20, bundle: server.bundleDirectory)
        let port = server.port
        let cases = Self.cases
        let (wrong, unexpected) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let client = HTTPTestClient(port: port)
                    var wrong = 0
                    for round in 0..<40 {
                        let start = (worker * 3 + round) % 15
                        let response = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: start..<(start + 5)))
                        let got = HTTPServerTests.predictions(response) ?? []
                        if response.status != 200 || got.count != 5 || zip(got, expected[start..<(start + 5)]).contains(where: { abs($0 - $1) >= 1e-6 }) {
                            wrong += 1
                        }
                    }
                    return (wrong, 0)
                }
            }
            for worker in 0..<2 {
                group.addTask {
                    var unexpected = 0
                    for round in 0..<40 {
                        let bad = cases[(worker * 7 + round) % cases.count]
                        let client = HTTPTestClient(port: port)  // some bad requests close their connection
                        let response = try client.send(bad.method, bad.path, headers: bad.headers, body: bad.body)
                        if response.status != bad.status { unexpected += 1 }
                    }
                    return (0, unexpected)
                }
            }
            group.addTask {
                // Bytes NIO's decoder cannot parse: each gets a 400 and a closed connection, nothing else.
                let garbage = ["NOT HTTP\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "POST /v1/models/tiny:predict HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                               "\u{0}\u{1}\u{2}\r\n\r\n"]
                var unexpected = 0
                for round in 0..<40 {
                    let response = try HTTPTestClient(port: port).sendRaw(Array(garbage[round % garbage.count].utf8))
                    if response.status != 400 || response.headers["connection"] != "close" { unexpected += 1 }
                }
                return (0, unexpected)
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        #expect(wrong == 0)
        #expect(unexpected == 0)
        await server.stop()
    }
}

@Suite("Serving errors map to HTTP statuses")
struct ErrorMappingTests {
    @Test("queue full and draining are 503 with Retry-After; an expired deadline is 504")
    func mapping() {
        let full = HTTPRoutes.reply(for: ServerError(ServingError(.queueFull, "full")))
        #expect(full.status.code == 503 && full.extraHeaders.contains { $0.0 == "retry-after" })
        #expect(HTTPRoutes.reply(for: ServerError(ServingError(.shuttingDown, "bye"))).status.code == 503)
        #expect(HTTPRoutes.reply(for: ServerError(ServingError(.deadlineExpired, "late"))).status.code == 504)
        #expect(HTTPRoutes.reply(for: ServerError(ServingError(.badInput, "bad"))).status.code == 400)
        #expect(HTTPRoutes.reply(for: ServerError(ServingError(.inference, "boom"))).status.code == 500)
    }
}
