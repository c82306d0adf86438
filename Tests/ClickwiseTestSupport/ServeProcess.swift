import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `clickwise` (the built `.build/debug/clickwise`) or other program running as a child process,
/// its stdout and stderr collected line by line so tests can wait for what it prints.
public final class ServeProcess: Sendable {
    public static let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The built CLI next to the test bundle (`swift build` / `swift test` build it).
    public static var clickwiseBinary: String {
        get throws {
            for configuration in ["debug", "release"] {
                let path = packageRoot + "/.build/\(configuration)/clickwise"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            throw Failure.message("no built clickwise under \(packageRoot)/.build (run `swift build` first)")
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case message(String)
        public var description: String { if case .message(let m) = self { return m }; return "" }
    }

    // Spawned with posix_spawn rather than Foundation's Process: two tests launching children at the same
    // time hung inside Process.run() on this Linux Foundation now and then.
    public let pid: pid_t
    private let log = LineLog()
    private let exitStatus = Mutex<Int32?>(nil)
    private let label: String

    /// Starts `executable` with `arguments`, stdout and stderr on one pipe.
    public init(_ executable: String, _ arguments: [String], label: String = "child") throws {
        self.label = label
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure.message("pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // only the dup2'd copies reach the child
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw Failure.message("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        let log = self.log
        let readEnd = fds[0]
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    log.lines.withLock { $0.append(line) }
                }
            }
            close(readEnd)
            log.finished.withLock { $0 = true }
        }
    }

    /// Starts `clickwise serve` with the given flags.
    public static func clickwise(_ arguments: [String], label: String = "clickwise") throws -> ServeProcess {
        try ServeProcess(clickwiseBinary, arguments, label: label)
    }

    public var output: [String] { log.lines.withLock { $0 } }

    /// Whether the child still runs (reaps it once it has exited).
    public var isRunning: Bool {
        exitStatus.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            guard result == pid else { return result == 0 }
            // Exit code, or 128 + signal as a shell reports it.
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return false
        }
    }

    /// Waits until some printed line matches `predicate` and returns it.
    @discardableResult
    public func waitForLine(timeout: Double = 30, where predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = log.lines.withLock({ $0.first(where: predicate) }) { return line }
            if !isRunning {
                usleep(50_000)  // let the reader thread take the last lines
                if let line = log.lines.withLock({ $0.first(where: predicate) }) { return line }
                break
            }
            usleep(20_000)
        }
        throw Failure.message("\(label): no matching line within \(timeout) s; output:\n" + output.joined(separator: "\n"))
    }

    /// Lines matching `predicate` (all of them, in order).
    public func lines(where predicate: (String) -> Bool) -> [String] { log.lines.withLock { $0.filter(predicate) } }

    public func signal(_ number: Int32) { if isRunning { Glibc.kill(pid, number) } }

    /// Waits for the process to exit and returns its status (or throws after `timeout`).
    public func waitForExit(timeout: Double = 30) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            guard Date() < deadline else { throw Failure.message("\(label) still running after \(timeout) s") }
            usleep(20_000)
        }
        // The reader thread may not have taken the last lines yet (a loaded machine): wait for its end of file, a
        // few seconds at most (a grandchild could hold the pipe open).
        let drained = Date().addingTimeInterval(5)
        while !log.finished.withLock({ $0 }), Date() < drained { usleep(5_000) }
        return exitStatus.withLock { $0 ?? -1 }
    }

    /// Stops the process if it still runs (test clean-up): SIGTERM, then SIGKILL after 10 s.
    public func stop() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGTERM)
        if (try? waitForExit(timeout: 10)) == nil {
            Glibc.kill(pid, SIGKILL)
            _ = try? waitForExit(timeout: 5)
        }
    }

    /// The first integer after `marker` in `line` ("... port 8123 ..." -> 8123).
    public static func number(after marker: String, in line: String) -> Int? {
        guard let range = line.range(of: marker) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}

/// Lines a child printed, shared with the threads reading its pipes.
final class LineLog: Sendable {
    let lines = Mutex<[String]>([])
    /// Set when the pipe reached end of file: every line the child printed is in `lines`.
    let finished = Mutex(false)
}

extension ServeProcess {
    /// A TCP port on 127.0.0.1 that was free a moment ago (for flags where 0 does not mean "pick one").
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw Failure.message("no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
