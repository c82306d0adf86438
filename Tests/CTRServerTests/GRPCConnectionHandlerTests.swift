import CTRGRPCProtocol
import CTRServing
import ClickwiseTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import SwiftProtobuf
import Testing
@testable import CTRServer

@Suite("our gRPC server over HTTP/2 frames (real grpc-swift client, real ONNX Runtime)")
struct GRPCConnectionHandlerTests {
    @Test("requests bigger than the receive window arrive whole, several at once on one connection (flow control refilled)")
    func flowControl() async throws {
        var options = GRPCFrontEnd.Options()
        options.windowBytes = 65_535  // a 1,000-row request is ~260 KB: four windows of the stream, more of the connection
        let server = try await GRPCTestServer.start(options: options)
        let expected = try HTTPServerTests.directPredictions(0..<1000, bundle: server.http.bundleDirectory)
        let answers = try await server.withClient { client in
            try await withThrowingTaskGroup(of: [Float].self) { group in
                for index in 0..<3 {
                    group.addTask { GRPCRequests.probabilities(try await client.modelInfer(GRPCRequests.raw(0..<1000, id: "big-\(index)"))) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(answers.count == 3)
        for got in answers {
            #expect(got.count == 1000 && zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        }
        await server.stop()
    }

    @Test("the server advertises --grpc-max-frame-bytes; a 1,000-row request in DATA frames that large arrives whole")
    func largeFrames() async throws {
        var options = GRPCFrontEnd.Options()
        options.maxFrameBytes = 1 << 20
        let server = try await GRPCTestServer.start(options: options)
        let socket = HTTPTestClient(port: server.port)
        try socket.open()
        // The client preface, then an empty SETTINGS frame: the server answers with its own SETTINGS first.
        try socket.sendPartial(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0])
        let advertised = try Self.settings(from: socket)
        socket.disconnect()
        #expect(advertised[5] == 1 << 20, "SETTINGS_MAX_FRAME_SIZE: \(advertised)")

        // grpc-swift's client sends DATA frames up to the size the server advertised: ~260 KB in one frame.
        let expected = try HTTPServerTests.directPredictions(0..<1000, bundle: server.http.bundleDirectory)
        let got = try await server.withClient { client in
            GRPCRequests.probabilities(try await client.modelInfer(GRPCRequests.raw(0..<1000)))
        }
        #expect(got.count == 1000 && zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        await server.stop()
    }

    /// The parameters of the first SETTINGS frame `socket` receives (identifier → value).
    private static func settings(from socket: HTTPTestClient) throws -> [UInt16: UInt32] {
        var bytes: [UInt8] = []
        while bytes.count < 9 || bytes.count < 9 + (Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])) {
            guard let more = try socket.receiveBytes(timeout: 10), !more.isEmpty else { break }
            bytes += more
        }
        guard bytes.count >= 9, bytes[3] == 4 else { return [:] }
        let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
        var result: [UInt16: UInt32] = [:]
        for offset in stride(from: 9, to: min(9 + length, bytes.count) - 5, by: 6) {
            let id = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            result[id] = bytes[offset + 2 ..< offset + 6].reduce(0) { $0 << 8 | UInt32($1) }
        }
        return result
    }

    @Test("a message over --grpc-max-message-bytes is RESOURCE_EXHAUSTED naming the limit; the connection goes on")
    func messageLimit() async throws {
        var options = GRPCFrontEnd.Options()
        options.maxRequestBytes = 4096
        let server = try await GRPCTestServer.start(options: options)
        let (refused, small) = try await server.withClient { client in
            let refused: RPCError? = await {
                do {
                    _ = try await client.modelInfer(GRPCRequests.raw(0..<100))
                    return nil
                } catch {
                    return error as? RPCError
                }
            }()
            return (refused, try await client.modelInfer(GRPCRequests.raw(0..<1)))
        }
        #expect(refused?.code == .resourceExhausted && refused?.message.contains("--grpc-max-message-bytes") == true, "\(String(describing: refused))")
        #expect(GRPCRequests.probabilities(small).count == 1)
        await server.stop()
    }

    @Test("a method the server does not have is UNIMPLEMENTED naming it")
    func unknownMethod() async throws {
        let server = try await GRPCTestServer.start()
        let refused = try await server.refusal { client in
            try await client.unary(
                request: ClientRequest(message: Inference_ServerLiveRequest()),
                descriptor: MethodDescriptor(fullyQualifiedService: "inference.GRPCInferenceService", method: "TraceSetting"),
                serializer: ProtobufSerializer<Inference_ServerLiveRequest>(),
                deserializer: ProtobufDeserializer<Inference_ServerLiveResponse>(),
                options: .defaults
            ) { response in _ = try response.message }
        }
        #expect(refused?.code == .unimplemented && refused?.message.contains("TraceSetting") == true, "\(String(describing: refused))")
        await server.stop()
    }

    @Test("a connection that never sends the HTTP/2 preface gets GOAWAY and is closed after --keepalive-timeout-secs")
    func idleWithoutPreface() async throws {
        let server = try await GRPCTestServer.start { $0.keepAliveTimeoutSeconds = 0.3 }
        let socket = HTTPTestClient(port: server.port)
        try socket.open()
        let received = try socket.readUntilClosed(timeout: 20)
        // Frames: 3-byte length, 1-byte type (4 SETTINGS, 7 GOAWAY), flags, 4-byte stream id.
        var types: [UInt8] = []
        var offset = 0
        while let bytes = received, offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            types.append(bytes[offset + 3])
            offset += 9 + length
        }
        #expect(received != nil, "the server kept an idle connection open")
        #expect(types.contains(7), "no GOAWAY before the close: frame types \(types)")
        await server.stop()
    }

    @Test("a unary call whose request stops arriving is DEADLINE_EXCEEDED naming --request-body-timeout-secs")
    func receiveTimeout() async throws {
        let server = try await GRPCTestServer.start { $0.requestBodyTimeoutSeconds = 0.3 }
        let started = ContinuousClock.now
        let refused = try await server.refusal { client in
            // The request stream stays open with no message: a stalled client.
            try await client.clientStreaming(
                request: StreamingClientRequest(of: Inference_ModelInferRequest.self) { _ in try await Task.sleep(for: .seconds(120)) },
                descriptor: MethodDescriptor(fullyQualifiedService: "inference.GRPCInferenceService", method: "ModelInfer"),
                serializer: ProtobufSerializer<Inference_ModelInferRequest>(),
                deserializer: ProtobufDeserializer<Inference_ModelInferResponse>(),
                options: .defaults
            ) { response in _ = try response.message }
        }
        #expect(refused?.code == .deadlineExceeded && refused?.message.contains("--request-body-timeout-secs") == true, "\(String(describing: refused))")
        // Well before the client's 120 s: the server ended the call. (0.45 s alone; a loaded parallel run or ThreadSanitizer
        // once took 15.1 and 15.7 s, so the bound leaves room for scheduling, not for waiting out the client.)
        #expect(ContinuousClock.now - started < .seconds(60))
        await server.stop()
    }
}

@Suite("gRPC wire format (no sockets)")
struct GRPCWireTests {
    @Test("a message split across DATA frames is read once whole; compressed and oversized ones are refused")
    func framing() throws {
        var message = Inference_ServerLiveResponse()
        message.live = true
        guard case .success(let framed) = GRPCWire.framed(message) else { Issue.record("framing failed"); return }
        #expect(framed.readableBytes == GRPCWire.prefixLength + 2)
        var first = framed.getSlice(at: 0, length: 3)!
        guard case .incomplete = GRPCWire.nextMessage(&first, maxBytes: 100) else { Issue.record("3 bytes were a message"); return }
        var joined = first
        var rest = framed.getSlice(at: 3, length: framed.readableBytes - 3)!
        joined.writeBuffer(&rest)
        guard case .message(let body) = GRPCWire.nextMessage(&joined, maxBytes: 100) else { Issue.record("whole message not read"); return }
        #expect(try Inference_ServerLiveResponse(serializedBytes: Array(body.readableBytesView)).live && joined.readableBytes == 0)

        var compressed = framed
        compressed.setInteger(UInt8(1), at: compressed.readerIndex)
        guard case .refused(let error) = GRPCWire.nextMessage(&compressed, maxBytes: 100) else { Issue.record("compressed accepted"); return }
        #expect(error.rpcCode == .unimplemented)
        var big = framed
        guard case .refused(let limit) = GRPCWire.nextMessage(&big, maxBytes: 1) else { Issue.record("oversized accepted"); return }
        #expect(limit.rpcCode == .resourceExhausted)
    }

    @Test("grpc-message is percent-encoded outside printable ASCII, and % itself")
    func percentEncoding() {
        #expect(GRPCWire.percentEncoded("input \"dense\": 100% wrong\nü") == "input \"dense\": 100%25 wrong%0A%C3%BC")
        #expect(GRPCWire.percentEncoded("plain text") == "plain text")
    }

    @Test("paths name Triton's and the health service's methods; others are unknown")
    func methods() {
        #expect(GRPCMethod(path: "/inference.GRPCInferenceService/ModelInfer") == .modelInfer)
        #expect(GRPCMethod(path: "/inference.GRPCInferenceService/ModelStreamInfer")?.streamsRequests == true)
        #expect(GRPCMethod(path: "/grpc.health.v1.Health/Watch") == .healthWatch)
        #expect(GRPCMethod(path: "/inference.GRPCInferenceService/CudaSharedMemoryStatus") == nil)
        #expect(GRPCMethod(path: "/other.Service/ModelInfer") == nil)
    }
}
