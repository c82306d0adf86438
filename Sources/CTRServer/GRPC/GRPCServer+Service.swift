import CTRGRPCProtocol
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The gRPC front end: Triton's `inference.GRPCInferenceService` and `grpc.health.v1.Health` on one port,
/// on the event loops the HTTP front end uses, over the same core.
///
/// Graceful shutdown: readiness turns false on both protocols, the listener stops accepting streams, and
/// the calls in flight finish before `run` returns.
public final class GRPCFrontEnd: Service, Sendable {
    public let core: InferenceCore
    private let host: String
    private let requestedPort: Int
    private let group: MultiThreadedEventLoopGroup
    private let options: Options
    private let logger: Logger
    private let bound = Mutex<(server: GRPCServer<HTTP2ServerTransport.Posix>, port: Int)?>(nil)
    private let stopRequested = Atomic<Bool>(false)

    /// Settings a deployment tunes.
    public struct Options: Sendable {
        /// Largest request message accepted (grpc-swift's 4 MiB default is too small for ranking batches).
        public var maxRequestBytes = 64 << 20
        /// Batch small writes for up to this long (nil = flush every write at once).
        public var flushCoalescing: Duration? = nil
        /// Bind with SO_REUSEPORT, so `--workers` processes share the port as they share HTTP's.
        public var reusePort = false
        /// Run the calls' handlers on the event loops (``EventLoopTaskExecutor``) instead of Swift's cooperative pool.
        public var handlersOnEventLoops = true

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
    /// The socket is made here rather than by grpc-swift's transport because the transport cannot set
    /// SO_REUSEPORT, which `--workers` needs; the transport takes the bound descriptor over.
    @discardableResult
    public func bind() throws(ServerError) -> Int {
        if let bound = bound.withLock({ $0 }) { return bound.port }
        let (descriptor, port) = try ListeningSocket.open(host: host, port: requestedPort, reusePort: options.reusePort)
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = options.maxRequestBytes
        config.connection.flushCoalescing = options.flushCoalescing.map {
            HTTP2ServerTransport.Config.Connection.FlushCoalescing(maxFlushDelay: $0, maxBytes: 64 * 1024)
        }
        let transport = HTTP2ServerTransport.Posix(listeningSocketDescriptor: Int(descriptor), transportSecurity: .plaintext,
                                                   config: config, eventLoopGroup: group)
        let server = GRPCServer(transport: transport, services: [InferenceService(core: core), HealthService(core: core)])
        bound.withLock { $0 = (server, port) }
        return port
    }

    /// The bound port (binds first if needed).
    public var port: Int {
        get throws(ServerError) { try bind() }
    }

    /// Serves until graceful shutdown (SIGTERM through the service group), then finishes the calls in flight.
    public func run() async throws {
        try bind()
        let server = bound.withLock { $0! }.server
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                // Child tasks inherit the preference, so every connection's and call's task runs on a loop.
                let executor = self.options.handlersOnEventLoops ? EventLoopTaskExecutor(group: self.group) : nil
                tasks.addTask(executorPreference: executor) { try await server.serve() }
                // A stop asked for before serve() started listening must still reach the server.
                if self.stopRequested.load(ordering: .acquiring) { server.beginGracefulShutdown() }
                try await tasks.waitForAll()
            }
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
        logger.info("gRPC stopped")
    }

    /// Stops accepting and lets the calls in flight finish; readiness turns false on both protocols.
    public func beginGracefulShutdown() {
        logger.info("gRPC shutting down: no new calls, finishing in-flight ones")
        stopRequested.store(true, ordering: .releasing)
        core.beginDraining()
        bound.withLock { $0?.server }?.beginGracefulShutdown()
    }
}
