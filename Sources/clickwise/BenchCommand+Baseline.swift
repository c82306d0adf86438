import ArgumentParser
import CTRFeatures
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

extension BenchCommand {
    /// A bare SwiftNIO HTTP/1.1 server that reads the body and answers a constant prediction: the floor our server is measured against.
    struct HTTPBaseline: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "http-baseline",
            abstract: "Serve a constant {\"predictions\":[0.5]} on bare SwiftNIO (the baseline for the server's CPU budget).")

        @Option var host = "127.0.0.1"
        @Option var port = 8001
        @Option(help: "Event-loop threads (0 = one per core).") var eventLoops = 0

        func run() throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops > 0 ? eventLoops : System.coreCount)
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(ConstantHandler())
                    }
                }
                .bind(host: host, port: port).wait()
            print("http-baseline listening on http://\(host):\(channel.localAddress?.port ?? port)")
            fflush(nil)
            try channel.closeFuture.wait()
        }
    }

    /// Writes the test fixture bundle (the tiny Criteo-shaped model with a small vocabulary) for benchmarks.
    struct FixtureBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fixture-bundle",
            abstract: "Write a bundle of Tests/Fixtures/criteo_tiny.onnx with a 20-value-per-field vocabulary (a near no-op model).")

        @Option(help: "Bundle directory to create.") var out: String
        @Option(help: "The fixture model.") var model = "Tests/Fixtures/criteo_tiny.onnx"

        func run() throws {
            let vocabularies = (0..<26).map { field in (0..<20).map { "c\(field)v\($0)" } }
            let map = try FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 10, count: 13), minCount: 10)
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
