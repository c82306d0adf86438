import CTRServer
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ServeCommand {
    /// `--workers N` in the parent: runs N worker processes on one port and waits for them to drain.
    func superviseWorkers() async throws {
        let port = self.port == 0 ? try Self.freePort(host: host) : self.port
        let arguments = Array(CommandLine.arguments.dropFirst())
        let supervisor = WorkerSupervisor(configuration: .init(workers: workers, host: host, port: port, arguments: arguments))
        let code = await supervisor.run()
        if code != 0 { throw ExitCode(code) }
    }

    /// In a worker: exits through the normal SIGTERM drain when the supervising parent disappears (even by
    /// SIGKILL), so workers are never left orphaned on the port. Polls getppid() once a second.
    static func watchParent() {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { sleep(1) }
            kill(getpid(), SIGTERM)
        }
    }

    /// A port the kernel considers free on `host` (for `--port 0` with workers, which must all share one).
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("cannot create a socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CLIError("cannot find a free port on \(host): errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
