import CTRGRPCProtocol
import ClickwiseTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing
@testable import CTRServer

/// Runs the real `clickwise` binary: start-up errors, graceful SIGTERM with requests in flight, the real tritonclient.
@Suite("clickwise serve as a process")
struct ServeProcessTests {
    static let python = ServeProcess.packageRoot + "/.venv/bin/python"

    /// Starts `clickwise serve --port 0 ...` and returns it with the port it printed, once ready.
    static func serve(_ arguments: [String]) throws -> (process: ServeProcess, port: Int) {
        let process = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", "0"] + arguments)
        let line = try process.waitForLine { $0.contains("serving") && $0.contains("http://127.0.0.1:") }
        try process.waitForLine { $0.hasPrefix("ready") }
        return (process, try #require(ServeProcess.number(after: "http://127.0.0.1:", in: line)))
    }

    @Test("a missing or broken model is one clear error line and a non-zero exit")
    func brokenModelAtStartup() throws {
        let missing = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", "0", "--model", "/nonexistent/bundle"])
        #expect(try missing.waitForExit() != 0)
        #expect(missing.output.count == 1 && missing.output[0].contains("/nonexistent/bundle"), "\(missing.output)")

        let repository = try TestServer.makeRepository()
        try FileManager.default.removeItem(atPath: repository + "/tiny/1/model.onnx")
        try FileManager.default.copyItem(atPath: TestServer.fixtures + "/truncated.onnx", toPath: repository + "/tiny/1/model.onnx")
        let broken = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", "0", "--model", repository])
        #expect(try broken.waitForExit() != 0)
        #expect(broken.output.count == 1 && broken.output[0].contains("model.onnx"), "\(broken.output)")

        let xnnpack = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", "0", "--model", try TestServer.makeRepository(), "--execution-provider", "xnnpack"])
        #expect(try xnnpack.waitForExit() != 0)
        #expect(xnnpack.output.count == 1 && xnnpack.output[0].contains("XNNPACK") && xnnpack.output[0].contains("not supported in this build"),
                "\(xnnpack.output)")
    }

    @Test("SIGTERM with requests in flight: every request is answered, then exit 0")
    func gracefulShutdown() throws {
        // Requests wait up to 300 ms in the batch queue, so they are surely in flight when SIGTERM arrives.
        let (served, port) = try Self.serve(["--model", try TestServer.makeRepository(), "--max-batch-size", "64", "--max-queue-delay-us", "300000"])
        defer { served.stop() }
        // Blocking clients on threads of their own, so all six are truly in flight at once.
        let statuses = StatusBox()
        let done = DispatchGroup()
        for index in 0..<6 {
            done.enter()
            Thread {
                let status = (try? HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: index..<(index + 1))).status) ?? -1
                statuses.append(status)
                done.leave()
            }.start()
        }
        // All six are in flight (the /metrics request that asks counts itself too).
        let inFlight = waitUntil(timeout: 60, interval: 0.01) {
            guard let text = try? HTTPTestClient(port: port).send("GET", "/metrics").text,
                  let metrics = try? PrometheusText(text) else { return false }
            return (metrics.samples.first { $0.name == "clickwise_inflight_requests" }?.value ?? 0) >= 7
        }
        #expect(inFlight, "the six requests were never in flight together")
        served.signal(SIGTERM)
        done.wait()
        #expect(statuses.values == Array(repeating: 200, count: 6))
        #expect(try served.waitForExit() == 0)
        #expect(throws: (any Error).self) { try HTTPTestClient(port: port).send("GET", "/v2/health/live") }
    }

    /// Starts `clickwise serve` with HTTP on a port it picks and gRPC on a free port; returns both ports.
    static func serveBoth(_ arguments: [String]) throws -> (process: ServeProcess, http: Int, grpc: Int) {
        let grpc = try ServeProcess.freePort()
        let process = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", String(grpc)] + arguments)
        let line = try process.waitForLine { $0.contains("serving") && $0.contains("http://127.0.0.1:") }
        try process.waitForLine { $0.contains("gRPC 127.0.0.1:\(grpc)") }
        try process.waitForLine { $0.hasPrefix("ready") }
        return (process, try #require(ServeProcess.number(after: "http://127.0.0.1:", in: line)), grpc)
    }

    @Test("SIGTERM with calls in flight on HTTP and gRPC: every one is answered, then exit 0")
    func gracefulShutdownBothProtocols() async throws {
        let (served, port, grpcPort) = try Self.serveBoth(["--model", try TestServer.makeRepository(), "--max-batch-size", "64",
                                                           "--max-queue-delay-us", "2000000"])
        defer { served.stop() }
        let statuses = StatusBox()
        let done = DispatchGroup()
        for index in 0..<4 {
            done.enter()
            Thread {
                let status = (try? HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: index..<(index + 1))).status) ?? -1
                statuses.append(status)
                done.leave()
            }.start()
        }
        let calls = Task(executorPreference: DispatchTaskExecutor.shared) {
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext)) { client in
                let inference = Inference_GRPCInferenceService.Client(wrapping: client)
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<4 {
                        group.addTask { GRPCRequests.probabilities(try await inference.modelInfer(GRPCRequests.raw(index..<(index + 1)))).count }
                    }
                    var counts: [Int] = []
                    for try await count in group { counts.append(count) }
                    return counts
                }
            }
        }
        // SIGTERM only once all eight are in the server (the /metrics request itself is the ninth): a call
        // still connecting when the listener closes would rightly be refused.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let metrics = try HTTPTestClient(port: port).send("GET", "/metrics").text
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("clickwise_inflight_requests ") }
            if let value = line?.split(separator: " ").last.flatMap({ Int($0) }), value >= 9 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        served.signal(SIGTERM)
        let counts = try await calls.value
        done.wait()
        #expect(statuses.values == Array(repeating: 200, count: 4))
        #expect(counts == [1, 1, 1, 1])
        #expect(try served.waitForExit() == 0)
        #expect(throws: (any Error).self) { try HTTPTestClient(port: port).send("GET", "/v2/health/live") }
    }

    @Test("the real tritonclient.grpc talks to the server with its defaults, streaming included")
    func tritonClientGRPC() throws {
        let repository = try TestServer.makeRepository()
        let (served, _, grpcPort) = try Self.serveBoth(["--model", repository])
        defer { served.stop() }
        let check = try ServeProcess(Self.python, [ServeProcess.packageRoot + "/scripts/tritonclient_check.py", "127.0.0.1:\(grpcPort)", "tiny",
                                                   repository + "/tiny/1", "--protocol", "grpc"], label: "tritonclient-grpc")
        let status = try check.waitForExit(timeout: 60)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0, "\(check.output)")
        #expect(check.output.contains("0 failed"))
    }

    @Test("perf_analyzer (tritonclient 2.41.0) runs bounded over gRPC and HTTP with real rows, without errors")
    func perfAnalyzer() throws {
        let repository = try TestServer.makeRepository()
        let (served, port, grpcPort) = try Self.serveBoth(["--model", repository])
        defer { served.stop() }
        let rows = FileManager.default.temporaryDirectory.appendingPathComponent("perf-\(UUID().uuidString).json").path
        let input = try ServeProcess(Self.python, [ServeProcess.packageRoot + "/bench/perf_input.py", "--bundle", repository + "/tiny/1",
                                                   "--count", "64", "--out", rows], label: "perf_input")
        #expect(try input.waitForExit(timeout: 60) == 0, "\(input.output)")
        for (protocolName, url) in [("grpc", "127.0.0.1:\(grpcPort)"), ("http", "127.0.0.1:\(port)")] {
            let perf = try ServeProcess(ServeProcess.packageRoot + "/scripts/perf_analyzer",
                                        ["-m", "tiny", "-u", url, "-i", protocolName, "--input-data", rows, "-b", "4",
                                         // Stability is what this test does not judge: on a loaded machine perf_analyzer's default
                                         // check rejects every window and fails a run that had no error.
                                         "--concurrency-range", "2", "--measurement-interval", "1000", "--max-trials", "4",
                                         "--stability-percentage", "1000"], label: "perf_analyzer-\(protocolName)")
            let status = try perf.waitForExit(timeout: 120)
            print(perf.output.suffix(12).joined(separator: "\n"))
            #expect(status == 0, "\(perf.output)")
            #expect(perf.output.contains { $0.contains("Throughput:") && $0.contains("infer/sec") }, "\(perf.output)")
            #expect(!perf.output.contains { $0.lowercased().contains("error") }, "\(perf.output)")
        }
    }

    @Test("the KServe container's arguments (deploy/kserve/args) serve HTTP and gRPC: readiness, Triton's clients on both")
    func kserveArguments() throws {
        let text = try String(contentsOfFile: ServeProcess.packageRoot + "/deploy/kserve/args", encoding: .utf8)
        let manifest = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(manifest.first == "serve" && manifest.contains("/mnt/models"))
        func value(after flag: String) -> String? { manifest.firstIndex(of: flag).map { manifest[$0 + 1] } }
        let httpPort = try #require(value(after: "--port").flatMap(Int.init)), grpcPort = try #require(value(after: "--grpc-port").flatMap(Int.init))
        // Exactly the manifest's arguments; only the storage mount KServe fills is a test repository here.
        let repository = try TestServer.makeRepository()
        let served = try ServeProcess.clickwise(manifest.map { $0 == "/mnt/models" ? repository : $0 }, label: "kserve-args")
        defer { served.stop() }
        try served.waitForLine { $0.hasPrefix("ready") }
        let ready = try HTTPTestClient(port: httpPort).send("GET", "/v2/health/ready")
        #expect(ready.status == 200)
        for (protocolName, port) in [("http", httpPort), ("grpc", grpcPort)] {
            let check = try ServeProcess(Self.python, [ServeProcess.packageRoot + "/scripts/tritonclient_check.py", "127.0.0.1:\(port)", "tiny",
                                                       repository + "/tiny/1", "--protocol", protocolName], label: "tritonclient-\(protocolName)")
            #expect(try check.waitForExit(timeout: 60) == 0, "\(check.output)")
            #expect(check.output.contains("0 failed"))
        }
    }

    @Test("--repository-poll-secs: a version directory added while serving is picked up and swapped in")
    func repositoryPolling() throws {
        let repository = try ModelVersions.repository([1])
        let (served, port) = try Self.serve(["--model", repository, "--repository-poll-secs", "0.5"])
        defer { served.stop() }
        let body = TestRows.body(rows: 0..<2)
        let before = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: body)
        try ModelVersions.add(repository, version: 2)
        // Bounded: 60 s for a poll, a load and a warm-up on a loaded machine, checked every 100 ms.
        var states: [String] = []
        for _ in 0..<600 {
            states = try ModelVersions.index(port).map { "\($0.version):\($0.state)" }
            if states == ["1:UNAVAILABLE", "2:READY"] { break }
            usleep(100_000)
        }
        #expect(states == ["1:UNAVAILABLE", "2:READY"])
        let after = try HTTPTestClient(port: port).send("POST", "/v1/models/tiny:predict", body: body)
        #expect(before.status == 200 && after.status == 200 && after.body != before.body, "version 2 encodes the numbers differently")
        #expect(!served.lines { $0.contains("version 2 is serving (replacing version 1)") }.isEmpty, "\(served.output)")
        let negative = try ServeProcess.clickwise(["serve", "--model", repository, "--repository-poll-secs", "-1"])
        #expect(try negative.waitForExit() != 0)
        #expect(negative.output.contains { $0.contains("--repository-poll-secs") }, "\(negative.output)")
    }

    @Test("the real tritonclient[http] talks to the server with its defaults")
    func tritonClient() throws {
        let repository = try TestServer.makeRepository()
        let (served, port) = try Self.serve(["--model", repository])
        defer { served.stop() }
        let check = try ServeProcess(Self.python, [ServeProcess.packageRoot + "/scripts/tritonclient_check.py", "127.0.0.1:\(port)", "tiny",
                                                   repository + "/tiny/1"], label: "tritonclient")
        let status = try check.waitForExit(timeout: 60)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0, "\(check.output)")
        #expect(check.output.contains("0 failed"))
    }
}

/// Statuses collected from client threads.
final class StatusBox: @unchecked Sendable {
    // Guarded by `lock`.
    private var items: [Int] = []
    private let lock = NSLock()
    func append(_ value: Int) { lock.lock(); items.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return items }
}
