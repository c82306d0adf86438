import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over a TCP socket, keeping its connection alive between requests.
final class HTTPTestClient {
    struct Response {
        let status: Int
        var version = "HTTP/1.1"
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    enum Failure: Error { case connect(Int32), closed, timedOut, malformed(String) }

    private let port: Int
    private var socket: Int32 = -1
    private var pending: [UInt8] = []

    init(port: Int) { self.port = port }
    deinit { if socket >= 0 { close(socket) } }

    private func connectIfNeeded() throws {
        guard socket < 0 else { return }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure.connect(code)
        }
        // A bound, not a wait: an answer that takes this long is a hang. 60 s because a full parallel run on a
        // machine also busy with a build once starved one exchange past 30 s.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        socket = fd
        pending = []
    }

    /// Sends a request and reads the whole response; reconnects if the server closed the connection.
    ///
    /// A kept-alive connection the server closed while we were idle (its keep-alive timeout: a test whose
    /// thread was starved for longer than that on a loaded machine) fails before any byte of the answer;
    /// like real clients, the request is then sent again once on a new connection.
    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> Response {
        let reused = socket >= 0
        do {
            return try exchange(method, path, headers: headers, body: body)
        } catch Failure.closed where reused && pending.isEmpty {
            disconnect()
            return try exchange(method, path, headers: headers, body: body)
        }
    }

    private func exchange(_ method: String, _ path: String, headers: [String: String], body: [UInt8]) throws -> Response {
        try connectIfNeeded()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try write(Array(head.utf8) + body)
        let response = try readResponse()
        if response.headers["connection"]?.lowercased() == "close" {
            close(socket)
            socket = -1
        }
        return response
    }

    /// Sends raw bytes (for malformed or pipelined requests) and reads one response; `expectBody: false` for HEAD.
    func sendRaw(_ bytes: [UInt8], expectBody: Bool = true) throws -> Response {
        try connectIfNeeded()
        try write(bytes)
        return try readResponse(expectBody: expectBody)
    }

    /// Reads the next response on the connection (after pipelined requests).
    func receive(expectBody: Bool = true) throws -> Response {
        try readResponse(expectBody: expectBody)
    }

    /// Closes the connection.
    func disconnect() {
        if socket >= 0 { close(socket) }
        socket = -1
    }

    /// Opens the connection without sending anything.
    func open() throws { try connectIfNeeded() }

    /// Sends bytes without reading an answer (partial requests).
    func sendPartial(_ bytes: [UInt8]) throws {
        try connectIfNeeded()
        try write(bytes)
    }

    /// Everything the server sends until it closes the connection, or nil if it is still open after `timeout` seconds.
    func readUntilClosed(timeout: Double) throws -> [UInt8]? {
        try connectIfNeeded()
        let deadline = Date().addingTimeInterval(timeout)
        var received = pending
        pending = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(left * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count < 0 && errno == ECONNRESET { break }
            guard count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
        }
        close(socket)
        socket = -1
        return received
    }

    /// The bytes the server sends next (one read): nil if nothing came within `timeout` seconds, empty once it closed.
    func receiveBytes(timeout: Double) throws -> [UInt8]? {
        try connectIfNeeded()
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        guard isReadable(timeout: timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    /// Whether the server has sent something (or closed) within `timeout` seconds.
    func isReadable(timeout: Double) -> Bool {
        guard socket >= 0 else { return false }
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(timeout * 1000)) > 0
    }

    /// Parses a whole response out of bytes read with `readUntilClosed`.
    static func parse(_ bytes: [UInt8]) throws -> Response {
        let client = HTTPTestClient(port: 0)
        client.pending = bytes
        return try client.readResponse()
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure.closed }
            offset += written
        }
    }

    private func fill() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &buffer, buffer.count, 0)
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw Failure.timedOut }
        guard count > 0 else { throw Failure.closed }
        pending.append(contentsOf: buffer[0..<count])
    }

    private func readResponse(expectBody: Bool = true) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = pending.firstRange(of: separator) { headerEnd = range.lowerBound } else { try fill() }
        }
        let headText = String(decoding: pending[0..<headerEnd!], as: UTF8.self)
        pending.removeFirst(headerEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure.malformed(headText) }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = expectBody ? Int(headers["content-length"] ?? "0") ?? 0 : 0
        while pending.count < length { try fill() }
        let body = Array(pending[0..<length])
        pending.removeFirst(length)
        return Response(status: status, version: String(statusLine[0]), headers: headers, body: body)
    }
}
