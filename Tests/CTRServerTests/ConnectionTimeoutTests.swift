import CTRServing
import Foundation
import Testing
@testable import CTRServer

/// Slow and idle clients against the real server: header deadline, body timeout, idle close, in-flight safety.
@Suite("connection timeouts (real sockets)")
struct ConnectionTimeoutTests {
    static func start(head: Double = 30, body: Double = 30, idle: Double = 30, pool: PoolConfiguration = PoolConfiguration()) async throws -> TestServer {
        try await TestServer.start(pool: pool) { configuration in
            configuration.requestHeaderTimeoutSeconds = head
            configuration.requestBodyTimeoutSeconds = body
            configuration.keepAliveTimeoutSeconds = idle
        }
    }

    /// Checks the 408 the server sends before closing: JSON `{"error": ...}` naming `flag`, `connection: close`.
    static func expectTimeoutResponse(_ bytes: [UInt8]?, naming flag: String) throws {
        let bytes = try #require(bytes, "the connection was still open")
        let response = try HTTPTestClient.parse(bytes)
        #expect(response.status == 408)
        #expect(response.headers["connection"] == "close")
        #expect(response.headers["content-type"] == "application/json")
        let message = try #require(response.json?["error"] as? String, "\(response.text)")
        #expect(message.contains(flag), "\(message)")
    }

    @Test("a head trickled a byte at a time still meets its deadline: 408, close")
    func headerDeadline() async throws {
        let server = try await Self.start(head: 1)
        let client = HTTPTestClient(port: server.port)
        try client.sendPartial(Array("POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8))
        // One header byte every 100 ms: an idle timer would be reset by each and never fire; the deadline is not.
        var answered = false
        for byte in Array("X-Slow: abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz".utf8) {
            if client.isReadable(timeout: 0.1) { answered = true; break }
            try? client.sendPartial([byte])
        }
        #expect(answered, "no answer while the head was still trickling in (6 s, deadline 1 s)")
        // Bounded generously: on a loaded machine the close can trail the 408 by seconds.
        try Self.expectTimeoutResponse(try client.readUntilClosed(timeout: 20), naming: "--request-header-timeout-secs")
        // The server still serves new connections.
        #expect(try HTTPTestClient(port: server.port).send("GET", "/v2/health/ready").status == 200)
        await server.stop()
    }

    @Test("a body shorter than its Content-Length gets 408 after the body timeout, then a close")
    func bodyTimeout() async throws {
        let server = try await Self.start(body: 1)
        let client = HTTPTestClient(port: server.port)
        let body = TestRows.body(rows: 0..<1)
        let head = "POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n\r\n"
        try client.sendPartial(Array(head.utf8) + Array(body.prefix(body.count / 2)))
        try Self.expectTimeoutResponse(try client.readUntilClosed(timeout: 10), naming: "--request-body-timeout-secs")
        await server.stop()
    }

    @Test("an idle keep-alive connection is closed without a response after the idle timeout")
    func idleClose() async throws {
        let server = try await Self.start(idle: 1)
        let client = HTTPTestClient(port: server.port)
        #expect(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<2)).status == 200)
        #expect(try client.readUntilClosed(timeout: 10) == [])
        // A connection that never sends a byte is idle too.
        let silent = HTTPTestClient(port: server.port)
        try silent.open()
        #expect(try silent.readUntilClosed(timeout: 10) == [])
        await server.stop()
    }

    @Test("a request whose inference outlasts every timeout is answered, and its connection stays usable")
    func inFlightNotCut() async throws {
        // The batcher holds each request 1.5 s for company: longer than all three timeouts (0.3 s).
        var pool = PoolConfiguration()
        pool.maxBatchSize = 64
        pool.maxQueueDelayMicroseconds = 1_500_000
        let server = try await Self.start(head: 0.3, body: 0.3, idle: 0.3, pool: pool)
        let client = HTTPTestClient(port: server.port)
        let started = Date()
        let response = try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<3))
        #expect(Date().timeIntervalSince(started) > 1.0, "the request did not wait in the queue: the test proves nothing")
        #expect(response.status == 200)
        #expect((response.json?["predictions"] as? [Any])?.count == 3)
        #expect(response.headers["connection"] != "close")
        await server.stop()
    }

    @Test("timer states as plain values: phases, deadlines and what a firing timer does")
    func stateMachine() {
        let second: UInt64 = 1_000_000_000
        var state = ConnectionTimerState(timeouts: .init(head: 30 * second, body: 10 * second, idle: 75 * second), now: 0)
        #expect(state.phase == .idle && state.deadline == 75 * second)
        #expect(state.timerFired(now: 74 * second) == .wait(until: 75 * second))
        state.bytesArrived(now: 5 * second)
        state.bytesArrived(now: 20 * second)  // trickled bytes do not move the head deadline
        #expect(state.phase == .readingHead && state.deadline == 35 * second)
        if case .requestTimeout(let message) = state.timerFired(now: 35 * second) {
            #expect(message.contains("--request-header-timeout-secs"))
        } else {
            Issue.record("the head deadline did not fire")
        }
        state.headReceived(now: 21 * second)
        state.bytesArrived(now: 28 * second)  // body bytes do
        #expect(state.phase == .readingBody && state.deadline == 38 * second)
        state.endReceived(now: 29 * second)
        #expect(state.phase == .awaitingReply && state.deadline == nil)
        #expect(state.timerFired(now: 1000 * second) == .wait(until: nil))
        #expect(!state.isStalled(now: 1000 * second, grace: 0))
        // A pipelined request starts arriving while the reply is owed: its clock starts at the reply.
        state.bytesArrived(now: 30 * second)
        state.replyWritten(now: 100 * second)
        #expect(state.phase == .readingHead && state.deadline == 130 * second)
        state.headReceived(now: 101 * second)
        state.replyWritten(now: 102 * second)  // 100 Continue: no reply was owed
        #expect(state.phase == .readingBody)
        state.endReceived(now: 103 * second)
        state.replyWritten(now: 104 * second)
        #expect(state.phase == .idle && state.deadline == 179 * second)
        #expect(state.isStalled(now: 106 * second, grace: 2 * second))
        #expect(state.timerFired(now: 179 * second) == .closeIdle)
        let disabled = ConnectionTimerState(timeouts: .init(head: 0, body: 0, idle: 0), now: 0)
        #expect(disabled.deadline == nil)
    }

    @Test("the default connection cap leaves max(64, limit/8) descriptors for the process")
    func defaultCap() {
        #expect(ConnectionLimitHandler.defaultMaxConnections(descriptorLimit: 256) == 192)
        #expect(ConnectionLimitHandler.defaultMaxConnections(descriptorLimit: 1024) == 896)
        #expect(ConnectionLimitHandler.defaultMaxConnections(descriptorLimit: 1_048_576) == 917_504)
        #expect(ConnectionLimitHandler.defaultMaxConnections(descriptorLimit: 10) == 1)
    }
}
