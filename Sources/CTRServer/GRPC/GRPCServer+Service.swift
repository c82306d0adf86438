import CTRGRPCProtocol
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The gRPC front end: Triton's `inference.GRPCInferenceService` and `grpc.health.v1.Health` on one port,
/// on the event loops the HTTP front end uses, over the same core.
///
/// Calls are served straight off NIO's HTTP/2 frames (``GRPCConnectionHandler``): a third of grpc-swift-2's
/// server's CPU per call, measured (docs/BENCHMARKS.md, 2026-12-02), which is why it is the one gRPC server;
/// grpc-swift stays as the tests' client. ``GRPCCalls`` holds the methods at the message level.
///
/// Graceful shutdown: readiness turns false on both protocols, the listener stops accepting, every
/// connection is sent GOAWAY, and the calls in flight finish before `run` returns.
public final class GRPCFrontEnd: Service, Sendable {
    public let core: InferenceCore
    private let host: String
    private let requestedPort: Int
    private let group: MultiThreadedEventLoopGroup
    private let options: Options
    private let logger: Logger
    /// The listening socket and its port, once bound.
    private let bound = Mutex<(descriptor: Int32, port: Int)?>(nil)
    private let connections = ConnectionRegistry()
    private let stop = AsyncStream<Void>.makeStream()

    /// Settings a deployment tunes.
    public struct Options: Sendable {
        /// Largest request message accepted (grpc-swift's 4 MiB default is too small for ranking batches).
        public var maxRequestBytes = 64 << 20
        /// Bind with SO_REUSEPORT, so `--workers` processes share the port as they share HTTP's.
        public var reusePort = false
        /// HTTP/2 receive window per stream and per connection: large ranking requests arrive without
        /// waiting a round trip per 64 KiB.
        public var windowBytes = 1 << 20
        /// Streams one connection may have open at once.
        public var maxConcurrentStreams = 1024
        /// Largest HTTP/2 frame the client may send (SETTINGS_MAX_FRAME_SIZE; the protocol's default is 16 KiB):
        /// a 100-candidate request (~26 KB) then arrives as one DATA frame, not two with a copy to join them
        /// (event loop 0.80× per 100-row request with the in-place reader, docs/BENCHMARKS.md, 2026-12-06).
        public var maxFrameBytes = 1 << 18
        /// How long a drain waits for the calls in flight before closing their connections.
        public var drainTimeout: Duration = .seconds(30)

        /// The defaults (`clickwise serve`'s).
        public init() {}
    }

    /// A gRPC server for `core` on `host:port` (port 0 picks a free one), sharing `group`.
    public init(core: InferenceCore, host: String, port: Int, group: MultiThreadedEventLoopGroup, options: Options = Options(),
                logger: Logger = Logger(label: "clickwise.grpc")) {
        self.core = core
        self.host = host
        requestedPort = port
        self.group = group
        self.options = options
        self.logger = logger
    }

    /// Binds the listening socket now, so a taken port is an error before the server reports ready.
    ///
    /// The socket is made by hand so that it can set SO_REUSEPORT, which `--workers` needs.
    @discardableResult
    public func bind() throws(ServerError) -> Int {
        if let bound = bound.withLock({ $0 }) { return bound.port }
        let (descriptor, port) = try ListeningSocket.open(host: host, port: requestedPort, reusePort: options.reusePort)
        bound.withLock { $0 = (descriptor, port) }
        return port
    }

    /// The bound port (binds first if needed).
    public var port: Int {
        get throws(ServerError) { try bind() }
    }

    /// Serves until graceful shutdown (SIGTERM through the service group), then finishes the calls in flight.
    public func run() async throws {
        try bind()
        try await serveFrames(descriptor: bound.withLock({ $0! }).descriptor)
        logger.info("gRPC stopped")
    }

    /// Stops accepting and lets the calls in flight finish; readiness turns false on both protocols.
    public func beginGracefulShutdown() {
        logger.info("gRPC shutting down: no new calls, finishing in-flight ones")
        core.beginDraining()
        stop.continuation.finish()
    }

    private func serveFrames(descriptor: Int32) async throws {
        let calls = GRPCCalls(core: core)
        let connections = self.connections
        // HTTP's keep-alive and body timeouts, so neither port lets an idle or stalled client keep a descriptor.
        let timeouts = core.configuration.connectionTimeouts
        func limit(_ nanoseconds: UInt64) -> TimeAmount? { nanoseconds == 0 ? nil : .nanoseconds(Int64(clamping: nanoseconds)) }
        let handlerOptions = GRPCConnectionHandler.Options(maxRequestBytes: options.maxRequestBytes, windowBytes: options.windowBytes,
                                                          workerIndex: core.configuration.workerIndex,
                                                          idleTimeout: limit(timeouts.idle), receiveTimeout: limit(timeouts.body))
        var settings = NIOHTTP2Handler.ConnectionConfiguration()
        settings.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: options.maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: options.windowBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: options.maxFrameBytes),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        let http2 = settings
        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.add(channel)
                channel.closeFuture.whenComplete { _ in connections.remove(id) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: http2))
                    try channel.pipeline.syncOperations.addHandler(GRPCConnectionHandler(calls: calls, options: handlerOptions))
                }
            }
        let channel = try await bootstrap.withBoundSocket(descriptor).get()
        let stop = self.stop
        await withGracefulShutdownHandler {
            for await _ in stop.stream {}
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
        try? await channel.close()
        for connection in connections.all {
            connection.pipeline.fireUserInboundEventTriggered(GRPCConnectionHandler.DrainEvent())
        }
        // Each connection closes itself once its calls are done; a connection still busy at the timeout is closed.
        let timeout = options.drainTimeout
        await withTaskGroup(of: Void.self) { waits in
            waits.addTask {
                for connection in connections.all { try? await connection.closeFuture.get() }
            }
            waits.addTask { try? await Task.sleep(for: timeout) }
            await waits.next()
            waits.cancelAll()
            for connection in connections.all { connection.close(promise: nil) }
        }
    }
}
