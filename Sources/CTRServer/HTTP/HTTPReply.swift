import NIOCore
import NIOHTTP1

/// A complete HTTP response produced by the application, written by the connection handler.
struct HTTPReply: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: ByteBuffer
    var extraHeaders: [(String, String)] = []

    static let allocator = ByteBufferAllocator()

    /// A JSON body.
    static func json(_ status: HTTPResponseStatus, _ bytes: [UInt8], extraHeaders: [(String, String)] = []) -> HTTPReply {
        HTTPReply(status: status, contentType: "application/json", body: allocator.buffer(bytes: bytes), extraHeaders: extraHeaders)
    }

    /// `{"error": message}` with the given status.
    static func error(_ status: HTTPResponseStatus, _ message: String, extraHeaders: [(String, String)] = []) -> HTTPReply {
        var bytes: [UInt8] = []
        ErrorResponseEncoder.encode(message: message, into: &bytes)
        return json(status, bytes, extraHeaders: extraHeaders)
    }

    /// Plain text (Prometheus exposition).
    static func text(_ status: HTTPResponseStatus, _ bytes: [UInt8], contentType: String = "text/plain; version=0.0.4; charset=utf-8") -> HTTPReply {
        HTTPReply(status: status, contentType: contentType, body: allocator.buffer(bytes: bytes))
    }
}
