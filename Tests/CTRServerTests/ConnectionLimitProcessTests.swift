import ClickwiseTestSupport
import Foundation
import Testing
@testable import CTRServer

/// The real `clickwise serve` under a lowered descriptor limit (`prlimit`), flooded with partial requests.
@Suite("connection cap and descriptor exhaustion (child process)", .serialized)
struct ConnectionLimitProcessTests {
    /// `clickwise serve` with RLIMIT_NOFILE set to `descriptors`; returns it with its port and the ready line.
    static func serve(descriptors: Int, _ arguments: [String]) throws -> (process: ServeProcess, port: Int, ready: String) {
        let process = try ServeProcess("/usr/bin/prlimit", ["--nofile=\(descriptors)", try ServeProcess.clickwiseBinary, "serve", "--port", "0", "--grpc-port", "0",
                                                            "--model", try TestServer.makeRepository()] + arguments, label: "clickwise")
        let line = try process.waitForLine { $0.contains("serving") && $0.contains("http://127.0.0.1:") }
        let ready = try process.waitForLine { $0.hasPrefix("ready") }
        return (process, try #require(ServeProcess.number(after: "http://127.0.0.1:", in: line)), ready)
    }

    /// Opens `count` connections that each send the start of a request head and nothing more.
    static func slowloris(port: Int, count: Int) throws -> [HTTPTestClient] {
        try (0..<count).map { _ in
            let client = HTTPTestClient(port: port)
            try client.sendPartial(Array("GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
            return client
        }
    }

    static func openDescriptors(of pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// User plus system CPU seconds the process has used.
    static func cpuSeconds(of pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after the command name.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("at the default cap (256 descriptors → 192) health and metrics answer through 300 partial requests; serving resumes after")
    func capUnderSlowloris() throws {
        // A header deadline longer than the client's 60 s read timeout: only the cap's pressure relief can let health in.
        let (served, port, ready) = try Self.serve(descriptors: 256, ["--request-header-timeout-secs", "120"])
        defer { served.stop() }
        #expect(ready.contains("max connections 192"), "\(ready)")
        let attackers = try Self.slowloris(port: port, count: 300)
        // The cap keeps the server under its limit once the connections it made give way are closed; on a loaded
        // machine those closes can trail the accepts for a moment (seen once in a full parallel test run: 256).
        let deadline = Date().addingTimeInterval(10)
        while Self.openDescriptors(of: served.pid) >= 256 && Date() < deadline { usleep(20_000) }
        #expect(Self.openDescriptors(of: served.pid) < 256)
        let health = try HTTPTestClient(port: port).send("GET", "/v2/health/ready")
        #expect(health.status == 200)
        let metrics = try HTTPTestClient(port: port).send("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.text.contains("clickwise_"))
        // Stalled connections that were made to give way got the 408 naming the cap.
        let evicted = try #require(attackers.first).readUntilClosed(timeout: 20)
        try ConnectionTimeoutTests.expectTimeoutResponse(evicted, naming: "--max-connections")
        attackers.forEach { $0.disconnect() }
        let prediction = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<4))
        #expect(prediction.status == 200 && (prediction.json?["predictions"] as? [Any])?.count == 4)
        #expect(served.isRunning)
    }

    @Test("out of descriptors (a cap above the limit), accept pauses instead of spinning, health still answers, serving resumes")
    func descriptorExhaustion() throws {
        let (served, port, _) = try Self.serve(descriptors: 128, ["--max-connections", "1000", "--request-header-timeout-secs", "120"])
        defer { served.stop() }
        let attackers = try Self.slowloris(port: port, count: 200)
        // Wait (bounded) until the server has run out of descriptors.
        let deadline = Date().addingTimeInterval(10)
        while Self.openDescriptors(of: served.pid) < 120 && Date() < deadline { usleep(20_000) }
        #expect(Self.openDescriptors(of: served.pid) >= 120)
        // Until stalled connections give way (2 s after they were accepted) every accept fails with EMFILE: NIO
        // keeps the listening socket registered, so without the pause the loop spins (0.5-0.6 CPU s/s measured
        // here); paused, it tries twice a second. The first 0.3 s are left out: the debug build is still setting
        // up the last accepted connections.
        usleep(300_000)
        let before = Self.cpuSeconds(of: served.pid)
        usleep(1_000_000)
        let used = Self.cpuSeconds(of: served.pid) - before
        #expect(before >= 0 && used < 0.15, "the server used \(used) s of CPU in 1 s while out of descriptors")
        let health = try HTTPTestClient(port: port).send("GET", "/v2/health/ready")
        #expect(health.status == 200)
        attackers.forEach { $0.disconnect() }
        let prediction = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<2))
        #expect(prediction.status == 200)
        #expect(served.isRunning)
    }
}
