import NIOCore
import NIOHTTP1

/// Serializes a whole HTTP/1.x response (status line, headers, body) into one buffer.
///
/// NIO's `HTTPResponseEncoder` with the pipelining handler costs about 18 µs per request on this machine
/// (docs/BENCHMARKS.md, `clickwise bench http-baseline --pipeline nio|decoder`): three boxed writes and a
/// header dictionary per response. One buffer and one write do the same job for a response we build ourselves.
enum HTTPResponseWriter {
    /// The response to `reply`; `omitBody` for HEAD requests (the length is still announced).
    static func response(_ reply: HTTPReply, version: HTTPVersion, close: Bool, workerHeader: String?, omitBody: Bool,
                         allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 160 + reply.contentType.utf8.count + (omitBody ? 0 : reply.body.readableBytes))
        writeStatusLine(reply.status, version: version, into: &buffer)
        buffer.writeStaticString("content-type: ")
        buffer.writeString(reply.contentType)
        buffer.writeStaticString("\r\ncontent-length: ")
        buffer.writeString(String(reply.body.readableBytes))  // a small string: no heap allocation
        buffer.writeStaticString("\r\n")
        for (name, value) in reply.extraHeaders {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if let workerHeader {
            buffer.writeString(workerHeader)
        }
        if close {
            buffer.writeStaticString("connection: close\r\n")
        } else if version.major == 1 && version.minor == 0 {
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
        if !omitBody {
            var body = reply.body
            buffer.writeBuffer(&body)
        }
        return buffer
    }

    /// `HTTP/1.1 100 Continue`, the interim answer to `Expect: 100-continue`.
    static func continueResponse(version: HTTPVersion, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32)
        writeStatusLine(.continue, version: version, into: &buffer)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    private static func writeStatusLine(_ status: HTTPResponseStatus, version: HTTPVersion, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(version.major == 1 && version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }
}
