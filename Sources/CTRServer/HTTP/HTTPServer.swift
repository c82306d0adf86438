import CTRServing
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP front end: binds, serves until told to stop, then drains gracefully.
///
/// Graceful shutdown: stop accepting, mark not-ready, let every in-flight request finish (its connection then
/// closes), close idle keep-alive connections. Stopping inference is the core's part (``InferenceCore/run()``),
/// except for a server run on its own (`ownsCore`), which stops the core's pools too.
public final class HTTPServer: Service, Sendable {
    public let core: InferenceCore
    private let routes: HTTPRoutes
    private let ownsCore: Bool
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let serverChannel = Mutex<Channel?>(nil)
    private let drainTask = Mutex<Task<Void, Never>?>(nil)
    // Ends when the server is asked to stop; a Swift stream rather than the channel's close future, because that
    // future's callbacks need an event loop that draining shuts down.
    private let stopRequested = AsyncStream<Void>.makeStream()
    private let connections = ConnectionRegistry()
    private let logger: Logger
    private let onListening: (@Sendable (SocketAddress) -> Void)?

    /// Creates a server for `core` on `group` (nil = its own event loops, shut down when it stops);
    /// `ownsCore` makes its drain stop the core's pools too (a server not run beside the core in a service
    /// group); `onListening` is told the bound address (with the real port).
    public init(core: InferenceCore, group: MultiThreadedEventLoopGroup? = nil, ownsCore: Bool = true,
                logger: Logger = Logger(label: "clickwise.http"), onListening: (@Sendable (SocketAddress) -> Void)? = nil) {
        self.core = core
        routes = HTTPRoutes(core: core)
        self.ownsCore = ownsCore
        ownsGroup = group == nil
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: core.configuration.resolvedEventLoopThreads(
            cores: System.coreCount, inferenceThreads: core.inferenceThreads))
        self.logger = logger
        self.onListening = onListening
    }

    /// Binds the listening socket and returns its address.
    @discardableResult
    public func bind() async throws -> SocketAddress {
        let routes = self.routes
        let connections = self.connections
        let configuration = core.configuration
        let workerIndex = configuration.workerIndex
        let timeouts = configuration.connectionTimeouts
        let maxConnections = configuration.resolvedMaxConnections()
        let pressureGrace = TimeAmount.nanoseconds(Int64(max(0, configuration.connectionPressureGraceSeconds) * 1e9))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(SOL_SOCKET), SO_REUSEPORT), value: configuration.reusePort ? 1 : 0)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimitHandler(maxConnections: maxConnections, pressureGrace: pressureGrace) { grace in
                        connections.relievePressure(grace: grace)
                    })
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.add(channel)
                channel.closeFuture.whenComplete { _ in connections.remove(id) }
                // NIO's request decoder, then our handler, which writes whole responses as bytes (not
                // configureHTTPServerPipeline: its encoder and pipelining handler double the per-request CPU).
                // The timeout handler brackets the decoder: raw bytes in front, decoded parts and replies behind.
                return channel.eventLoop.makeCompletedFuture {
                    let timeout = ConnectionTimeoutHandler(timeouts: timeouts, workerIndex: workerIndex)
                    try channel.pipeline.syncOperations.addHandler(ConnectionTimeoutHandler.ByteWatcher(reportingTo: timeout))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                    try channel.pipeline.syncOperations.addHandler(timeout)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(routes: routes, workerIndex: workerIndex))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        serverChannel.withLock { $0 = channel }
        let address = channel.localAddress!
        onListening?(address)
        return address
    }

    /// Serves until graceful shutdown (SIGTERM/SIGINT through the service group) or `drain()`, then drains and returns.
    public func run() async throws {
        if serverChannel.withLock({ $0 }) == nil { try await bind() }
        let stop = stopRequested
        await withGracefulShutdownHandler {
            for await _ in stop.stream {}
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections, finishing in-flight requests")
            stop.continuation.finish()
        }
        await drain()
    }

    /// Stops accepting, waits for in-flight requests, closes connections, stops inference and the event loops.
    /// Idempotent: every caller waits for the one drain to finish.
    public func drain() async {
        stopRequested.continuation.finish()
        let task = drainTask.withLock { task in
            if let task { return task }
            let created = Task { await self.performDrain() }
            task = created
            return created
        }
        await task.value
    }

    private func performDrain() async {
        core.beginDraining()
        if let channel = serverChannel.withLock({ $0 }) { try? await channel.close() }
        for channel in connections.all {
            channel.pipeline.fireUserInboundEventTriggered(HTTPHandler.DrainEvent())
        }
        await core.waitForInFlight()
        for channel in connections.all { try? await channel.close() }
        if ownsCore { core.shutdownPools() }
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("HTTP stopped")
    }

}

/// Open connections, so draining can reach idle keep-alive ones.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: Channel]>([:])

    func add(_ channel: Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ id: ObjectIdentifier) { _ = channels.withLock { $0.removeValue(forKey: id) } }
    var all: [Channel] { channels.withLock { Array($0.values) } }

    /// Asks every connection idle or stalled mid-request for `grace` to close (see `ConnectionLimitHandler`).
    func relievePressure(grace: TimeAmount) {
        for channel in all { channel.pipeline.fireUserInboundEventTriggered(ConnectionTimeoutHandler.PressureEvent(grace: grace)) }
    }
}
