import Foundation
import Testing
@testable import CTRServer

/// Runs the real `clickwise` binary: start-up errors, graceful SIGTERM with requests in flight, the real tritonclient.
@Suite("clickwise serve as a process")
struct ServeProcessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/clickwise").path
    static let python = root.appendingPathComponent(".venv/bin/python").path

    /// A started `clickwise serve` and the port it printed.
    struct Served {
        let process: Process
        let port: Int
        let output: Pipe
    }

    static func serve(_ arguments: [String]) throws -> Served {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the clickwise executable first (swift build --build-tests)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read lines until "ready", collecting the port from the "serving ... on http://host:port" line.
        var port: Int?
        var text = ""
        let handle = output.fileHandleForReading
        while !text.contains("ready") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
            port = Int(text[range].split(separator: ":").last!)
        }
        return Served(process: process, port: try #require(port, "no port in: \(text)"), output: output)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    @Test("a missing or broken model is one clear error line and a non-zero exit")
    func brokenModelAtStartup() throws {
        let missing = try Self.run(Self.binary, ["serve", "--port", "0", "--model", "/nonexistent/bundle"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/bundle"))
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")

        let repository = try TestServer.makeRepository()
        try FileManager.default.copyItem(atPath: TestServer.fixtures + "/truncated.onnx", toPath: repository + "/broken.onnx")
        try FileManager.default.removeItem(atPath: repository + "/tiny/1/model.onnx")
        try FileManager.default.copyItem(atPath: TestServer.fixtures + "/truncated.onnx", toPath: repository + "/tiny/1/model.onnx")
        let broken = try Self.run(Self.binary, ["serve", "--port", "0", "--model", repository])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("model.onnx"))
        #expect(broken.stderr.split(separator: "\n").count == 1, "\(broken.stderr)")

        let xnnpack = try Self.run(Self.binary, ["serve", "--port", "0", "--model", try TestServer.makeRepository(), "--execution-provider", "xnnpack"])
        #expect(xnnpack.status != 0)
        #expect(xnnpack.stderr.contains("XNNPACK") && xnnpack.stderr.contains("not supported in this build"), "\(xnnpack.stderr)")
    }

    @Test("SIGTERM with requests in flight: every request is answered, then exit 0")
    func gracefulShutdown() async throws {
        // Requests wait up to 300 ms in the batch queue, so they are surely in flight when SIGTERM arrives.
        let served = try Self.serve(["--model", try TestServer.makeRepository(), "--max-batch-size", "64", "--max-queue-delay-us", "300000"])
        let port = served.port
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
        try await Task.sleep(for: .milliseconds(150))
        kill(served.process.processIdentifier, SIGTERM)
        done.wait()
        served.process.waitUntilExit()
        #expect(statuses.values == Array(repeating: 200, count: 6))
        #expect(served.process.terminationReason == .exit && served.process.terminationStatus == 0)
        #expect(throws: (any Error).self) { try HTTPTestClient(port: port).send("GET", "/v2/health/live") }
    }

    @Test("the real tritonclient[http] talks to the server with its defaults")
    func tritonClient() async throws {
        let repository = try TestServer.makeRepository()
        let served = try Self.serve(["--model", repository])
        defer {
            kill(served.process.processIdentifier, SIGTERM)
            served.process.waitUntilExit()
        }
        let result = try Self.run(Self.python, ["scripts/tritonclient_check.py", "127.0.0.1:\(served.port)", "tiny", repository + "/tiny/1"])
        print(result.stdout)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("0 failed"))
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
