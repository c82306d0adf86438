import Foundation
import NIOCore
import NIOHPACK
import SwiftProtobuf

/// gRPC's HTTP/2 wire format (the gRPC-over-HTTP/2 protocol document): length-prefixed messages,
/// response headers and trailers with `grpc-status` and a percent-encoded `grpc-message`.
enum GRPCWire {
    /// The length prefix: one compressed-flag byte and a big-endian 32-bit length.
    static let prefixLength = 5

    /// One step of reading messages off a stream's bytes.
    enum Next {
        /// A whole message (its bytes, prefix removed).
        case message(ByteBuffer)
        /// More bytes are needed.
        case incomplete
        /// The next message cannot be accepted: the status to end the call with.
        case refused(ServerError)
    }

    /// Reads the next message from `buffer` if it is all there, refusing compressed ones and ones over `maxBytes`.
    static func nextMessage(_ buffer: inout ByteBuffer, maxBytes: Int) -> Next {
        guard let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else { return .incomplete }
        guard flag == 0 else {
            return .refused(ServerError(.unimplemented, "compressed messages are not supported: send with grpc-encoding identity"))
        }
        guard Int(length) <= maxBytes else {
            return .refused(ServerError(.limitExceeded, "request message of \(length) bytes is over the limit of \(maxBytes) (--grpc-max-message-bytes)"))
        }
        guard buffer.readableBytes >= prefixLength + Int(length) else { return .incomplete }
        buffer.moveReaderIndex(forwardBy: prefixLength)
        return .message(buffer.readSlice(length: Int(length))!)
    }

    /// The start of a message that spans DATA frames, in a buffer of its own sized for the whole message
    /// (when its prefix has arrived), so the frames that follow append without regrowing it and without
    /// holding the read buffers they came in.
    static func pendingMessage(_ start: ByteBuffer) -> ByteBuffer {
        var capacity = start.readableBytes
        if let length = start.getInteger(at: start.readerIndex + 1, as: UInt32.self) {
            capacity = max(capacity, prefixLength + Int(length))
        }
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        var start = start
        buffer.writeBuffer(&start)
        return buffer
    }

    /// `message` serialized and length-prefixed, ready to send as DATA.
    static func framed(_ message: some SwiftProtobuf.Message) -> Result<ByteBuffer, ServerError> {
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            return .failure(ServerError(.internalError, "could not encode \(type(of: message).protoMessageName): \(error)"))
        }
        var buffer = ByteBufferAllocator().buffer(capacity: prefixLength + bytes.count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return .success(buffer)
    }

    /// Decodes a request message, naming its type when it is not valid protobuf.
    static func decode<Message: SwiftProtobuf.Message>(_ type: Message.Type, _ bytes: ByteBuffer) -> Result<Message, ServerError> {
        do {
            // One memcpy into the Data swift-protobuf reads (a byte-wise copy costs 50 ms per 260 KB in a debug build).
            return .success(try bytes.withUnsafeReadableBytes { try Message(serializedBytes: Data($0)) })
        } catch {
            return .failure(ServerError(.invalidArgument, "request is not a valid \(Message.protoMessageName): \(error)"))
        }
    }

    /// The response headers: HTTP 200 and gRPC's content type (plus `x-clickwise-worker` under `--workers`).
    static func responseHeaders(workerIndex: Int?) -> HPACKHeaders {
        var headers: HPACKHeaders = [":status": "200", "content-type": "application/grpc", "grpc-accept-encoding": "identity"]
        if let workerIndex { headers.add(name: "x-clickwise-worker", value: String(workerIndex)) }
        return headers
    }

    /// The trailers of a call that succeeded.
    static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    /// The trailers (or, with `headers`, the trailers-only response) of a call that failed with `error`.
    static func errorTrailers(_ error: ServerError, headers: HPACKHeaders?) -> HPACKHeaders {
        var trailers = headers ?? [:]
        trailers.add(name: "grpc-status", value: String(error.rpcCode.rawValue))
        trailers.add(name: "grpc-message", value: percentEncoded(error.message))
        return trailers
    }

    /// `grpc-message`'s encoding: bytes outside printable ASCII, and `%`, as `%XX` of their UTF-8.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
