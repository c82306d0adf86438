import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `clickwise` (the built `.build/debug/clickwise`) or other program running as a child process,
/// its stdout and stderr collected line by line so tests can wait for what it prints.
final class ServeProcess: Sendable {
    static let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The built CLI next to the test bundle (`swift build` / `swift test` build it).
    static var clickwiseBinary: String {
        get throws {
            for configuration in ["debug", "release"] {
                let path = packageRoot + "/.build/\(configuration)/clickwise"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            throw Failure.message("no built clickwise under \(packageRoot)/.build (run `swift build` first)")
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case message(String)
        var description: String { if case .message(let m) = self { return m }; return "" }
    }

    // Process is not Sendable; it is only touched under `lock` or before it is shared.
    private nonisolated(unsafe) let process: Process
    private let log = LineLog()
    private let label: String

    /// Starts `executable` with `arguments` in the package root.
    init(_ executable: String, _ arguments: [String], label: String = "child") throws {
        self.label = label
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: Self.packageRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        self.process = process
        for pipe in [out, err] {
            let handle = pipe.fileHandleForReading
            let log = self.log
            Thread.detachNewThread {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        log.lines.withLock { $0.append(line) }
                    }
                }
            }
        }
        try process.run()
    }

    /// Starts `clickwise serve` with the given flags.
    static func clickwise(_ arguments: [String], label: String = "clickwise") throws -> ServeProcess {
        try ServeProcess(clickwiseBinary, arguments, label: label)
    }

    var pid: pid_t { process.processIdentifier }
    var output: [String] { log.lines.withLock { $0 } }
    var isRunning: Bool { process.isRunning }

    /// Waits until some printed line matches `predicate` and returns it.
    @discardableResult
    func waitForLine(timeout: Double = 30, where predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = log.lines.withLock({ $0.first(where: predicate) }) { return line }
            if !process.isRunning, let line = log.lines.withLock({ $0.first(where: predicate) }) { return line }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw Failure.message("\(label): no matching line within \(timeout) s; output:\n" + output.joined(separator: "\n"))
    }

    /// Lines matching `predicate` (all of them, in order).
    func lines(where predicate: (String) -> Bool) -> [String] { log.lines.withLock { $0.filter(predicate) } }

    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// Waits for the process to exit and returns its status (or throws after `timeout`).
    func waitForExit(timeout: Double = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { throw Failure.message("\(label) still running after \(timeout) s") }
            usleep(20_000)
        }
        return process.terminationStatus
    }

    /// Stops the process if it still runs (test clean-up): SIGTERM, then SIGKILL after 10 s.
    func stop() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        if (try? waitForExit(timeout: 10)) == nil {
            Glibc.kill(process.processIdentifier, SIGKILL)
            _ = try? waitForExit(timeout: 5)
        }
    }

    /// The first integer after `marker` in `line` ("... port 8123 ..." -> 8123).
    static func number(after marker: String, in line: String) -> Int? {
        guard let range = line.range(of: marker) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// Lines a child printed, shared with the threads reading its pipes.
final class LineLog: Sendable {
    let lines = Mutex<[String]>([])
}
