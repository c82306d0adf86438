#if canImport(Glibc)
import Glibc
#endif

/// A bound, listening TCP socket made by hand, for options grpc-swift's transport does not expose.
enum ListeningSocket {
    /// Opens, configures, binds and listens on `host:port` (IPv4; port 0 picks one); returns the
    /// descriptor and the bound port.
    static func open(host: String, port: Int, reusePort: Bool, backlog: Int32 = 1024) throws(ServerError) -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw failure("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let name = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, name, &address.sin_addr) == 1 else {
            close(fd)
            throw ServerError(.invalidArgument, "gRPC host \"\(host)\" is not an IPv4 address")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let error = failure("bind \(host):\(port)")
            close(fd)
            throw error
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private static func failure(_ what: String) -> ServerError {
        ServerError(.internalError, "\(what): \(String(cString: strerror(errno)))")
    }
}
