import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs `clickwise serve --workers N`: N copies of this binary serving one port with SO_REUSEPORT.
///
/// Each worker is this executable (`/proc/self/exe`) with the parent's arguments plus `--worker-index i`
/// (and the resolved `--port`). A worker that dies is logged and restarted after a short back-off, except
/// during shutdown. SIGTERM/SIGINT are forwarded to every worker; the parent exits once all have drained:
/// 0 when every worker stopped cleanly, 1 otherwise. A worker that fails before any worker was ever ready
/// (a missing model, a taken port) stops the whole group with exit 1 instead of restarting in a loop.
public final class WorkerSupervisor: Sendable {
    /// How many workers, where they listen, and the command line each is started with.
    public struct Configuration: Sendable {
        public var workers: Int
        public var host: String
        public var port: Int
        /// The arguments after `clickwise`, as given to the parent.
        public var arguments: [String]

        /// A supervisor's settings.
        public init(workers: Int, host: String, port: Int, arguments: [String]) {
            self.workers = workers
            self.host = host
            self.port = port
            self.arguments = arguments
        }
    }

    /// One serving child process (not an inference thread: those are the pool's `InferenceWorker`s).
    private struct WorkerProcess {
        var pid: pid_t
        var startedAt: ContinuousClock.Instant
        var ready = false
    }

    private struct State {
        var workers: [Int: WorkerProcess] = [:]
        var pidToIndex: [pid_t: Int] = [:]
        var shuttingDown = false
        var everReady = false
        var announced = false
        var failures = 0
        var backoff: [Int: Duration] = [:]
    }

    private let configuration: Configuration
    private let executable: String
    private let state = Mutex(State())
    private let finished = Mutex<CheckedContinuation<Int32, Never>?>(nil)

    /// A supervisor of `configuration.workers` serving processes.
    public init(configuration: Configuration) {
        self.configuration = configuration
        executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts the workers and returns the exit status once they are all gone.
    public func run() async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let signalSources = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in beginShutdown(signal: number) }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }
        return await withCheckedContinuation { continuation in
            finished.withLock { $0 = continuation }
            for index in 0..<configuration.workers { spawn(index) }
            Thread.detachNewThread { [self] in reapLoop() }
        }
    }

    // MARK: - workers

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("clickwise: \(message)\n".utf8))
    }

    private func workerArguments(_ index: Int) -> [String] {
        [executable] + configuration.arguments + ["--port", String(configuration.port), "--worker-index", String(index)]
    }

    /// Starts worker `index`, its stdout on a pipe this process reads (to learn when it is ready).
    private func spawn(_ index: Int) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { log("pipe failed: errno \(errno)"); return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        // The child starts with default signal dispositions (the parent ignores SIGTERM/SIGINT/SIGPIPE).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let arguments = workerArguments(index)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = state.withLock { state -> Int32 in
            guard !state.shuttingDown else { return -1 }
            let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            if result == 0 {
                state.workers[index] = WorkerProcess(pid: pid, startedAt: .now)
                state.pidToIndex[pid] = index
            }
            return result
        }
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attributes)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            if result > 0 { log("cannot start worker \(index): \(String(cString: strerror(result)))") }
            return
        }
        log("worker \(index) started (pid \(pid))")
        let readEnd = fds[0]
        let workerPID = pid
        Thread.detachNewThread { [self] in readOutput(of: index, pid: workerPID, fd: readEnd) }
    }

    /// Forwards a worker's stdout to stderr (prefixed), noting its "ready" line.
    private func readOutput(of index: Int, pid: pid_t, fd: Int32) {
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                FileHandle.standardError.write(Data("[worker \(index)] \(line)\n".utf8))
                if line.hasPrefix("ready") { markReady(index, pid: pid) }
            }
        }
    }

    private func markReady(_ index: Int, pid: pid_t) {
        let announce = state.withLock { state -> Bool in
            guard state.workers[index]?.pid == pid else { return false }
            state.workers[index]?.ready = true
            state.everReady = true
            state.backoff[index] = nil
            guard !state.announced, state.workers.values.filter(\.ready).count == configuration.workers else { return false }
            state.announced = true
            return true
        }
        if announce {
            let line = "clickwise serving on http://\(configuration.host):\(configuration.port) with \(configuration.workers) workers (SO_REUSEPORT, parent pid \(getpid()))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    /// Waits for workers to exit; restarts them, or finishes when shutting down and none are left.
    private func reapLoop() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                // ECHILD: no worker alive. Done when shutting down; otherwise a restart is pending.
                if state.withLock({ $0.shuttingDown && $0.workers.isEmpty }) { finish(); return }
                usleep(20_000)
                continue
            }
            let exitedCleanly = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
            let signalNumber = status & 0x7f
            let description = signalNumber == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(signalNumber)"
            enum Next { case restart(Int, Duration), finish, fail(Int), nothing }
            let next = state.withLock { state -> Next in
                guard let index = state.pidToIndex.removeValue(forKey: pid) else { return .nothing }
                let worker = state.workers.removeValue(forKey: index)
                if state.shuttingDown {
                    if !(exitedCleanly || signalNumber == SIGTERM || signalNumber == SIGINT) { state.failures += 1 }
                    return state.workers.isEmpty ? .finish : .nothing
                }
                if !state.everReady && !exitedCleanly && signalNumber == 0 { return .fail(index) }
                // Back off: 100 ms, doubling (to 5 s) while a worker keeps dying within 10 s of its start.
                let livedLong = worker.map { ContinuousClock.now - $0.startedAt > .seconds(10) } ?? true
                let previous = state.backoff[index] ?? .zero
                let delay = livedLong || previous == .zero ? Duration.milliseconds(100) : min(previous * 2, .seconds(5))
                state.backoff[index] = delay
                return .restart(index, delay)
            }
            switch next {
            case .nothing:
                if state.withLock({ $0.shuttingDown && $0.workers.isEmpty }) { finish(); return }
            case .finish:
                log("worker (pid \(pid)) \(description); all workers stopped")
                finish()
                return
            case .fail(let index):
                log("worker \(index) (pid \(pid)) \(description) before serving; stopping")
                state.withLock { $0.failures += 1 }
                beginShutdown(signal: nil)
                if state.withLock({ $0.workers.isEmpty }) { finish(); return }
            case .restart(let index, let delay):
                log("worker \(index) (pid \(pid)) \(description); restarting in \(Int(delay / .milliseconds(1))) ms")
                Thread.detachNewThread { [self] in
                    Thread.sleep(forTimeInterval: delay / .seconds(1))
                    spawn(index)
                }
            }
        }
    }

    /// Marks shutdown and forwards SIGTERM to every worker (for SIGINT too: workers drain on either).
    private func beginShutdown(signal number: Int32?) {
        let pids = state.withLock { state -> [pid_t] in
            let first = !state.shuttingDown
            state.shuttingDown = true
            return first || number != nil ? state.workers.values.map(\.pid) : []
        }
        if let number { log("received signal \(number); draining \(pids.count) workers") }
        for pid in pids { kill(pid, SIGTERM) }
    }

    private func finish() {
        let code: Int32 = state.withLock { $0.failures == 0 ? 0 : 1 }
        finished.withLock { continuation in
            continuation?.resume(returning: code)
            continuation = nil
        }
    }
}
