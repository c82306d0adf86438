import ArgumentParser
import CTRFeatures
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

extension BenchCommand {
    /// A bare SwiftNIO HTTP/1.1 server that reads the body and answers a constant prediction: the floor our server is measured against.
    ///
    /// Schema-free: it never parses the body, so any bundle's requests (bench/wrk/single_row_fixed.lua
    /// sends a Criteo row by default) measure the same floor.
    struct HTTPBaseline: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "http-baseline",
            abstract: "Serve a constant {\"predictions\":[0.5]} on bare SwiftNIO (the baseline for the server's CPU budget).")

        @Option var host = "127.0.0.1"
        @Option(help: "Port to listen on (default 8002: neither of serve's ports).") var port = 8002
        @Option(help: "Event-loop threads (0 = one per core).") var eventLoops = 0
        @Option(help: "Pipeline: nio (configureHTTPServerPipeline), decoder (NIO's request decoder, response written as bytes), raw (no HTTP codec).")
        var pipeline = "nio"

        func run() throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops > 0 ? eventLoops : System.coreCount)
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [pipeline] channel in
                    switch pipeline {
                    case "decoder":
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                            try channel.pipeline.syncOperations.addHandler(ConstantBytesHandler())
                        }
                    case "raw":
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(RawConstantHandler())
                        }
                    default:
                        return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                            try channel.pipeline.syncOperations.addHandler(ConstantHandler())
                        }
                    }
                }
                .bind(host: host, port: port).wait()
            print("http-baseline listening on http://\(host):\(channel.localAddress?.port ?? port)")
            fflush(nil)
            try channel.closeFuture.wait()
        }
    }

    /// Writes the test fixture bundle (the tiny Criteo-shaped model with a small vocabulary) for benchmarks.
    ///
    /// Criteo-shaped on purpose: it wraps Tests/Fixtures/criteo_tiny.onnx, whose inputs are fixed at
    /// Criteo's 26 categorical and 13 numeric fields, so the map must be the Criteo preset's.
    struct FixtureBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fixture-bundle",
            abstract: "Write a bundle of Tests/Fixtures/criteo_tiny.onnx with a 20-value-per-field vocabulary (a near no-op model).")

        @Option(help: "Bundle directory to create.") var out: String
        @Option(help: "The fixture model.") var model = "Tests/Fixtures/criteo_tiny.onnx"

        func run() throws {
            let vocabularies = (0..<CriteoSchema.categoricalCount).map { field in (0..<20).map { "c\(field)v\($0)" } }
            let map = try FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 10, count: CriteoSchema.denseCount),
                                     minCount: 10)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let target = (out as NSString).appendingPathComponent("model.onnx")
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: model, toPath: target)
            try map.write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("features.json")))
            print("fixture bundle written to \(out)")
        }
    }
}

/// Answers every request with the same small JSON, after reading the whole body.
private final class ConstantHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var keepAlive = true
    private static let body = #"{"predictions":[0.5]}"#

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(Self.body.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: Self.body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

private let constantResponse = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 21\r\n\r\n{\"predictions\":[0.5]}"

private final class ConstantBytesHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: constantResponse)), promise: nil)
        }
    }
}

private final class RawConstantHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // wrk sends one request per read here; counts requests by their header terminators.
        let buffer = unwrapInboundIn(data)
        let n = buffer.withUnsafeReadableBytes { bytes -> Int in
            var n = 0, i = 0
            while i + 3 < bytes.count {
                if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { n += 1; i += 4 } else { i += 1 }
            }
            return n
        }
        for _ in 0..<n { context.write(wrapOutboundOut(context.channel.allocator.buffer(string: constantResponse)), promise: nil) }
        if n > 0 { context.flush() }
    }
}
