import ArgumentParser
import CTRServer
import CTRServing
import Foundation
import Logging
import Metrics
import ONNXRuntime
import ServiceLifecycle
import NIOCore
import NIOPosix

/// `clickwise serve`: serves CTR predictions over HTTP (CTR API and KServe v2) until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model bundle (or a repository of bundles) over HTTP.")

    @Option(help: "A bundle directory (model.onnx + features.json) or a repository of <model>/<version>/ bundles.")
    var model: String = "models/deepfm"

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8000

    @Option(help: "Port of the gRPC front end (KServe v2 / Triton's inference.GRPCInferenceService and grpc.health.v1.Health); 0 turns it off.")
    var grpcPort: Int = 8001

    @Option(help: "Largest gRPC request message in bytes (ranking batches outgrow the usual 4 MiB default).")
    var grpcMaxMessageBytes: Int = 64 << 20

    @Option(help: "Largest HTTP/2 frame a gRPC client may send, in bytes (16384...16777215).")
    var grpcMaxFrameBytes: Int = 1 << 18

    @Option(help: "ONNX Runtime threads inside one Run.")
    var intraThreads: Int = 1

    @Option(help: "ONNX Runtime threads across independent nodes (>1 switches to parallel execution).")
    var interThreads: Int = 1

    @Option(help: "Sessions in the pool, each with its own inference thread.")
    var poolSize: Int = 1

    @Option(help: "Threads that run half of a large request's rows beside its inference thread (default: the cores --pool-size leaves, so a ranking request uses an idle core without splitting single-row traffic's batches).")
    var splitThreads: Int?

    @Option(help: "Rows a request needs before its run is split across an inference thread and a split thread.")
    var splitMinRows: Int = 32

    @Flag(help: "Share one session between --pool-size inference threads instead of one session each.")
    var sharedSession = false

    @Option(help: "cpu or xnnpack (XNNPACK is not in the PyPI build of ONNX Runtime: asking for it is an error).")
    var executionProvider: String = "cpu"

    @Option(help: "disabled, basic, extended, layout or all.")
    var graphOptimization: String = "all"

    @Flag(inversion: .prefixedNo, help: "Pooled sessions share one copy of the weights: initializers of at least --shared-weight-min-bytes through AddInitializer, pre-packed Gemm weights through ONNX Runtime's container. --no-share-weights gives every session its own copy.")
    var shareWeights = true

    @Option(help: "Smallest initializer (bytes) the pool shares through AddInitializer; 0 shares every one.")
    var sharedWeightMinBytes: Int = 0

    @Flag(inversion: .prefixedNo, help: "ONNX Runtime's CPU memory arena for activations.")
    var cpuArena = true

    @Flag(inversion: .prefixedNo, help: "ONNX Runtime's memory-pattern planning (cached per input shape).")
    var memoryPattern = true

    @Flag(help: "Sessions allocate from one arena registered on the ONNX Runtime environment instead of one each.")
    var envAllocator = false

    @Flag(help: "Let ONNX Runtime's worker threads spin while waiting (lower latency, more CPU).")
    var allowSpinning = false

    @Option(help: "Most rows in one request.")
    var maxRowsPerRequest: Int = 1000

    @Flag(help: "Accept CTR API rows that carry keys outside the model's schema (raw log rows with extra columns) instead of answering 400.")
    var ignoreUnknownFields = false

    @Option(name: .customLong("item-table"), help: ArgumentHelp(
        "A CSV of items ([MODEL=]FILE; header row, the item id field first, then item fields): a :rank candidate that gives only its id gets the other fields from it. Repeatable; without MODEL= it fills every CTR model whose fields cover its columns. Re-read when the file changes.",
        valueName: "[model=]file"))
    var itemTables: [String] = []

    @Option(name: .customLong("item-table-poll-secs"), help: "Seconds between two checks of the item tables for changes (0: never reloaded).")
    var itemTablePollSeconds: Double = 5

    @Option(help: ArgumentHelp(
        "Share a model's requests between versions by weight (repeatable; e.g. autoint=1:90,2:10): the CTR API sticks to one version per user (the bundle's first source: user field, or traffic.json's sticky_field); v2 calls without a version are drawn by weight. A traffic.json in the model's directory ({\"weights\": {\"1\": 90, \"2\": 10}, \"sticky_field\": \"userid\", \"shadow\": \"2\"}) wins and is re-read by every repository poll and load.",
        valueName: "model=version:weight,..."))
    var traffic: [String] = []

    @Option(help: ArgumentHelp(
        "Score every CTR API request of a model with this version as well (repeatable; e.g. autoint=2): logged beside the answering version's predictions (same request id), counted in its statistics, never answered.",
        valueName: "model=version"))
    var shadow: [String] = []

    @Option(help: "Write every served CTR API prediction (:predict and :rank) to CSV files under this directory, one subdirectory per model: request id (X-Request-Id, else generated and answered), time, model, version, candidate index, the raw fields as the schema's columns, the prediction. A background writer: a slow or full disk drops records (counted on /metrics), never a request.")
    var predictionLog: String?

    @Option(help: "The share of requests the prediction log keeps (0-1).")
    var predictionLogSample: Double = 1

    @Option(help: "Prediction log files are rotated past this size (MB)...")
    var predictionLogMaxMb: Int = 64

    @Option(help: "...or this age (seconds).")
    var predictionLogRotateSecs: Double = 3600

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes: Int = 4 << 20

    @Option(help: "Most rows merged into one ONNX Runtime run across requests (1 = no batching: the plain pool). With the default queue delay of 0 only requests already waiting are merged, so batching adds no latency.")
    var maxBatchSize: Int = 64

    @Option(name: .customLong("max-queue-delay-us"), help: "How long a free inference thread waits for more rows to batch.")
    var maxQueueDelayMicroseconds: Int = 0

    @Option(help: "Most requests waiting for inference; more are answered 503 with Retry-After.")
    var maxQueueSize: Int = 1024

    @Option(help: "SwiftNIO event-loop threads (0 = the cores not taken by inference threads, at least 1).")
    var eventLoops: Int = 0

    @Option(name: .customLong("request-header-timeout-secs"), help: "Deadline for a request's whole head, from its first byte; a client still sending gets 408 and is closed (0 = none).")
    var requestHeaderTimeoutSeconds: Double = 30

    @Option(name: .customLong("request-body-timeout-secs"), help: "Longest wait between two reads of a request body before 408 and close; on gRPC, a call whose request stops arriving this long fails with DEADLINE_EXCEEDED (0 = none).")
    var requestBodyTimeoutSeconds: Double = 30

    @Option(name: .customLong("keepalive-timeout-secs"), help: "An idle keep-alive connection is closed after this long; on gRPC, a connection without calls gets GOAWAY and is closed (0 = never).")
    var keepAliveTimeoutSeconds: Double = 75

    @Option(help: "Most open client connections; at the cap new clients wait in the listen backlog (default: the descriptor limit less max(64, limit/8) kept for the process's own files).")
    var maxConnections: Int?

    @Option(name: .customLong("repository-poll-secs"),
            help: "Scan --model every N seconds for new models and version directories (Triton's poll mode): the newest version is loaded, warmed up and swapped in without failing a request; 0 = only at start-up and on POST /v2/repository/models/{m}/load.")
    var repositoryPollSeconds: Double = 0

    @Option(help: "Server processes sharing the port with SO_REUSEPORT, supervised (restarted) by this one.")
    var workers: Int = 1

    @Option(help: .hidden)
    var workerIndex: Int?

    @OptionGroup var runtimeOptions: RuntimeOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard (0...1).contains(predictionLogSample) else { throw ValidationError("--prediction-log-sample must be 0...1, got \(predictionLogSample)") }
        guard predictionLogMaxMb >= 1 else { throw ValidationError("--prediction-log-max-mb must be at least 1") }
        guard predictionLogRotateSecs > 0 else { throw ValidationError("--prediction-log-rotate-secs must be positive") }
        guard itemTablePollSeconds >= 0 else { throw ValidationError("--item-table-poll-secs must be 0 or more") }
        do throws(ServingError) { _ = try TrafficPolicy.fromArguments(traffic: traffic, shadow: shadow) } catch { throw ValidationError(error.message) }
        guard (0...65535).contains(grpcPort) else { throw ValidationError("--grpc-port must be 0...65535 (0 turns gRPC off)") }
        guard grpcPort == 0 || grpcPort != port || port == 0 else { throw ValidationError("--grpc-port must differ from --port") }
        guard grpcMaxMessageBytes >= 1 << 10 else { throw ValidationError("--grpc-max-message-bytes must be at least 1024") }
        guard (1 << 14 ... (1 << 24) - 1).contains(grpcMaxFrameBytes) else {
            throw ValidationError("--grpc-max-frame-bytes must be 16384...16777215 (HTTP/2's SETTINGS_MAX_FRAME_SIZE range)")
        }
        guard intraThreads >= 1, interThreads >= 1 else { throw ValidationError("--intra-threads and --inter-threads must be at least 1") }
        guard repositoryPollSeconds >= 0 else { throw ValidationError("--repository-poll-secs must be >= 0 (0 turns polling off)") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard poolSize >= 1 else { throw ValidationError("--pool-size must be at least 1") }
        guard (splitThreads ?? 0) >= 0, splitMinRows >= 2 else { throw ValidationError("--split-threads must be >= 0 and --split-min-rows >= 2") }
        guard sharedWeightMinBytes >= 0 else { throw ValidationError("--shared-weight-min-bytes must be 0 or more") }
        guard maxBatchSize >= 1 else { throw ValidationError("--max-batch-size must be at least 1") }
        guard maxQueueDelayMicroseconds >= 0 else { throw ValidationError("--max-queue-delay-us must be >= 0") }
        guard maxQueueSize >= 1 else { throw ValidationError("--max-queue-size must be at least 1") }
        guard maxRowsPerRequest >= 1, maxBodyBytes >= 1 else { throw ValidationError("--max-rows-per-request and --max-body-bytes must be positive") }
        guard requestHeaderTimeoutSeconds >= 0, requestBodyTimeoutSeconds >= 0, keepAliveTimeoutSeconds >= 0 else {
            throw ValidationError("--request-header-timeout-secs, --request-body-timeout-secs and --keepalive-timeout-secs must be >= 0")
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        guard ORTSessionOptions.GraphOptimizationLevel(name: graphOptimization) != nil else {
            throw ValidationError("--graph-optimization must be one of disabled, basic, extended, layout, all")
        }
        guard ["cpu", "xnnpack"].contains(executionProvider.lowercased()) else {
            throw ValidationError("--execution-provider must be cpu or xnnpack")
        }
    }

    /// The server configuration these flags describe.
    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration(modelPath: model)
        configuration.host = host
        configuration.port = port
        configuration.eventLoopThreads = eventLoops
        configuration.maxRowsPerRequest = maxRowsPerRequest
        configuration.ignoreUnknownFields = ignoreUnknownFields
        configuration.itemTables = itemTables.map(ItemTableSetting.init(argument:))
        configuration.itemTablePollSeconds = itemTablePollSeconds
        // Checked in validate().
        configuration.traffic = (try? TrafficPolicy.fromArguments(traffic: traffic, shadow: shadow)) ?? [:]
        if let predictionLog {
            var settings = PredictionLog.Settings(directory: predictionLog)
            settings.sampleRate = predictionLogSample
            settings.maxFileBytes = predictionLogMaxMb << 20
            settings.maxFileSeconds = predictionLogRotateSecs
            configuration.predictionLog = settings
        }
        configuration.maxBodyBytes = maxBodyBytes
        configuration.ortLibrary = runtimeOptions.ortLibrary
        configuration.requestHeaderTimeoutSeconds = requestHeaderTimeoutSeconds
        configuration.requestBodyTimeoutSeconds = requestBodyTimeoutSeconds
        configuration.keepAliveTimeoutSeconds = keepAliveTimeoutSeconds
        configuration.maxConnections = maxConnections
        configuration.repositoryPollSeconds = repositoryPollSeconds
        configuration.pool.poolSize = poolSize
        configuration.pool.splitThreads = splitThreads ?? max(0, System.coreCount - poolSize)
        configuration.pool.splitMinRows = splitMinRows
        configuration.pool.sharedSession = sharedSession
        configuration.pool.shareWeights = shareWeights
        configuration.pool.sharedWeightMinimumBytes = sharedWeightMinBytes
        configuration.pool.cpuMemoryArena = cpuArena
        configuration.pool.memoryPattern = memoryPattern
        configuration.pool.environmentAllocator = envAllocator
        configuration.pool.intraOpThreads = intraThreads
        configuration.pool.interOpThreads = interThreads
        configuration.pool.graphOptimization = ORTSessionOptions.GraphOptimizationLevel(name: graphOptimization) ?? .all
        configuration.pool.allowSpinning = allowSpinning
        configuration.pool.executionProvider = executionProvider
        configuration.pool.maxBatchSize = maxBatchSize
        configuration.pool.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
        configuration.pool.maxQueueSize = maxQueueSize
        configuration.reusePort = workerIndex != nil
        configuration.workerIndex = workerIndex
        return configuration
    }

    func run() async throws {
        if workers > 1 && workerIndex == nil { return try await superviseWorkers() }
        if workerIndex != nil { Self.watchParent() }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "clickwise")
        let core: InferenceCore
        do {
            core = try InferenceCore.build(serverConfiguration, logger: logger)
        } catch {
            throw CLIError(error.message)
        }
        // Libraries that report through swift-metrics land on the same /metrics page as the server's own series.
        MetricsSystem.bootstrap(core.metrics.factory)
        // One set of event loops for every front end; shut down on every path out of here.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: serverConfiguration.resolvedEventLoopThreads(
            cores: System.coreCount, inferenceThreads: core.inferenceThreads))
        do {
            try await serve(core: core, group: group, logger: logger)
        } catch {
            core.shutdownPools()
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }

    private func serve(core: InferenceCore, group: MultiThreadedEventLoopGroup, logger: Logger) async throws {
        let http = HTTPServer(core: core, group: group, ownsCore: false, logger: logger)
        var grpcOptions = GRPCFrontEnd.Options()
        grpcOptions.maxRequestBytes = grpcMaxMessageBytes
        grpcOptions.maxFrameBytes = grpcMaxFrameBytes
        grpcOptions.reusePort = workerIndex != nil
        let grpc = grpcPort == 0 ? nil : GRPCFrontEnd(core: core, host: host, port: grpcPort, group: group, options: grpcOptions, logger: logger)
        // A worker joins the shared SO_REUSEPORT port only once warm: the kernel would otherwise route new
        // connections to a restarting worker that can only answer 503. A single server binds first, so its
        // health endpoints answer (not ready) during warm-up, which the core runs as its service starts.
        if workerIndex != nil {
            do { try await core.warmUpOffPool() } catch { throw CLIError(error.message) }
        }
        let address: SocketAddress
        do {
            address = try await http.bind()
        } catch {
            throw CLIError("cannot listen on \(host):\(port): \(error)")
        }
        let port = address.port ?? self.port
        print("clickwise \(InferenceCore.version) serving \(core.modelNames.joined(separator: ", ")) on http://\(host):\(port)")
        let first = core.modelNames[0]
        if core.takesRawRows(first) {
            print("  POST http://\(host):\(port)/v1/models/\(first):predict   (KServe v2: /v2/models/\(first)/infer)")
        } else {
            print("  POST http://\(host):\(port)/v2/models/\(first)/infer   (a plain ONNX model: KServe v2 tensors, GET /v2/models/\(first) lists them)")
        }
        if let grpc {
            do {
                try grpc.bind()
            } catch {
                throw CLIError("cannot listen for gRPC on \(host):\(grpcPort): \(error)")
            }
            print("  gRPC \(host):\(grpcPort)   (inference.GRPCInferenceService, grpc.health.v1.Health)")
        }
        fflush(nil)
        let summary = "ready (pool \(poolSize)\(sharedSession ? " threads on one shared session" : " sessions"), intra \(intraThreads), inter \(interThreads), max batch \(maxBatchSize), max connections \(serverConfiguration.resolvedMaxConnections()))"
        let announce = Task {
            await core.waitUntilWarm()
            print(summary)
            fflush(nil)
        }
        defer { announce.cancel() }
        // The core first: the group stops services in reverse order, so the front ends finish their calls
        // before the core's pools stop.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: core, failureTerminationBehavior: .gracefullyShutdownGroup),
                                                                         .init(service: http)]
            + (grpc.map { [.init(service: $0)] } ?? [])
        let serviceGroup = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch let error as ServingError {
            throw CLIError(error.message)
        }
    }
}

