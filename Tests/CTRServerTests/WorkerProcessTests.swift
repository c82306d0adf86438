import CTRGRPCProtocol
import ClickwiseTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `clickwise serve --workers 2`: the real binary, two SO_REUSEPORT workers under a supervising parent.
@Suite(.serialized)
struct WorkerProcessTests {
    /// Starts a two-worker group on a free port and returns it with the port it announced.
    private func startGroup() throws -> (ServeProcess, Int, String) {
        let repository = try TestServer.makeRepository()
        let group = try ServeProcess.clickwise(["serve", "--model", repository, "--port", "0", "--grpc-port", "0", "--workers", "2",
                                                "--event-loops", "1"], label: "workers")
        let line = try group.waitForLine(timeout: 60) { $0.contains("serving on http://") }
        let port = try #require(ServeProcess.number(after: "127.0.0.1:", in: line))
        return (group, port, repository)
    }

    /// Worker index that answered one prediction on a fresh connection.
    private func predict(port: Int) throws -> (worker: String, predictions: Int) {
        let client = HTTPTestClient(port: port)
        let response = try client.send("POST", "/v1/models/tiny:predict", headers: ["Connection": "close"],
                                       body: TestRows.body(rows: 0..<3))
        guard response.status == 200 else { throw ServeProcess.Failure.message("status \(response.status): \(response.text)") }
        let predictions = (response.json?["predictions"] as? [Double])?.count ?? 0
        return (response.headers["x-clickwise-worker"] ?? "none", predictions)
    }

    private func workerPID(_ group: ServeProcess, index: Int, excluding: Set<Int32> = []) throws -> Int32 {
        let line = try group.waitForLine(timeout: 30) { line in
            guard line.contains("worker \(index) started (pid "),
                  let pid = ServeProcess.number(after: "(pid ", in: line) else { return false }
            return !excluding.contains(Int32(pid))
        }
        return Int32(ServeProcess.number(after: "(pid ", in: line)!)
    }

    @Test("--workers 2 serves gRPC on one shared port too: both workers answer ModelInfer")
    func bothWorkersAnswerGRPC() async throws {
        let repository = try TestServer.makeRepository()
        let grpcPort = try ServeProcess.freePort()
        let group = try ServeProcess.clickwise(["serve", "--model", repository, "--port", "0", "--grpc-port", String(grpcPort), "--workers", "2",
                                                "--event-loops", "1"], label: "workers-grpc")
        defer { group.stop(); try? FileManager.default.removeItem(atPath: repository) }
        _ = try group.waitForLine(timeout: 60) { $0.contains("serving on http://") }
        _ = try workerPID(group, index: 0)
        _ = try workerPID(group, index: 1)
        var seen: [String: Int] = [:]
        for _ in 0..<200 {
            // A new connection per call, so the kernel's SO_REUSEPORT hashing can pick either worker.
            let worker: String? = try? await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext)
            ) { client in
                try await Inference_GRPCInferenceService.Client(wrapping: client).modelInfer(
                    request: ClientRequest(message: GRPCRequests.raw(0..<2))) { response in
                    _ = try response.message
                    return response.metadata[stringValues: "x-clickwise-worker"].first(where: { _ in true })
                }
            } } ?? nil
            if let worker { seen[worker, default: 0] += 1 }
            if seen.count == 2 && seen.values.allSatisfy({ $0 >= 3 }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(Set(seen.keys) == ["0", "1"], "workers seen over gRPC: \(seen)")
    }

    @Test func bothWorkersAnswerOnOnePort() throws {
        let (group, port, repository) = try startGroup()
        defer { group.stop(); try? FileManager.default.removeItem(atPath: repository) }
        var seen: [String: Int] = [:]
        for _ in 0..<200 {
            let answer = try predict(port: port)
            #expect(answer.predictions == 3)
            seen[answer.worker, default: 0] += 1
            if seen.count == 2 && seen.values.allSatisfy({ $0 >= 3 }) { break }
        }
        #expect(Set(seen.keys) == ["0", "1"], "workers seen: \(seen)")
        #expect(group.lines { $0.contains("serving on http://") }.count == 1)
    }

    @Test func killedWorkerIsRestartedWhileTheOtherServes() throws {
        let (group, port, repository) = try startGroup()
        defer { group.stop(); try? FileManager.default.removeItem(atPath: repository) }
        let first = try workerPID(group, index: 0)
        kill(first, SIGKILL)
        // Once the parent has reaped it (its listening socket is gone), the surviving worker answers every
        // request while worker 0 restarts.
        try group.waitForLine { $0.contains("worker 0 (pid \(first)) was killed by signal 9; restarting") }
        var answeredBy: Set<String> = []
        for _ in 0..<20 { answeredBy.insert(try predict(port: port).worker) }
        let second = try workerPID(group, index: 0, excluding: [first])
        #expect(second != first)
        #expect(kill(second, 0) == 0)
        // The new worker serves again: worker 0 shows up on fresh connections.
        var sawRestarted = false
        let deadline = Date().addingTimeInterval(30)
        while !sawRestarted && Date() < deadline {
            sawRestarted = try predict(port: port).worker == "0"
        }
        #expect(sawRestarted, "the restarted worker 0 never answered; answered by \(answeredBy)")
        #expect(group.isRunning)
    }

    @Test func sigtermDrainsAllWorkersAndExitsZero() throws {
        let (group, port, repository) = try startGroup()
        defer { group.stop(); try? FileManager.default.removeItem(atPath: repository) }
        let pids = [try workerPID(group, index: 0), try workerPID(group, index: 1)]
        _ = try predict(port: port)
        // A keep-alive connection mid-conversation is answered, then closed by the drain.
        let client = HTTPTestClient(port: port)
        #expect(try client.send("GET", "/v2/health/ready").status == 200)
        group.signal(SIGTERM)
        #expect(try group.waitForExit(timeout: 30) == 0)
        for pid in pids { #expect(!Self.isAlive(pid), "worker \(pid) still alive") }
        #expect(group.lines { $0.contains("restarting") }.isEmpty)
    }
}

extension WorkerProcessTests {
    @Test func workersExitWhenTheParentIsKilled() throws {
        let (group, _, repository) = try startGroup()
        defer { group.stop(); try? FileManager.default.removeItem(atPath: repository) }
        let pids = [try workerPID(group, index: 0), try workerPID(group, index: 1)]
        group.signal(SIGKILL)
        _ = try? group.waitForExit(timeout: 10)
        let deadline = Date().addingTimeInterval(15)
        while pids.contains(where: Self.isAlive) && Date() < deadline { usleep(50_000) }
        for pid in pids { #expect(!Self.isAlive(pid), "orphaned worker \(pid) still running") }
    }

    /// Running (a zombie waiting for an init that does not reap counts as gone).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }
}
