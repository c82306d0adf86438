import CTRServing
#if canImport(Glibc)
import Glibc
#endif

/// One `--item-table`: a CSV of items and the model it is for (nil: every CTR model whose fields cover its columns).
public struct ItemTableSetting: Sendable, Equatable {
    public var model: String?
    public var path: String

    /// A table at `path` for `model` (nil: any model it fits).
    public init(model: String? = nil, path: String) {
        self.model = model
        self.path = path
    }

    /// Parses `[MODEL=]FILE`.
    public init(argument: String) {
        if let equals = argument.firstIndex(of: "="), !argument[..<equals].contains("/") {
            self.init(model: String(argument[..<equals]), path: String(argument[argument.index(after: equals)...]))
        } else {
            self.init(path: argument)
        }
    }
}

/// Everything `clickwise serve` can set: where to listen, what to serve, limits, and the inference pool.
public struct ServerConfiguration: Sendable {
    /// A bundle directory or a repository of `<model>/<version>/` bundles.
    public var modelPath: String
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8000
    /// SwiftNIO event-loop threads; 0 means the cores the inference threads leave free (at least one).
    public var eventLoopThreads = 0
    /// Most rows (instances, or the batch dimension of v2 tensors) in one request.
    public var maxRowsPerRequest = 1000
    /// Accept CTR API rows that carry keys outside the model's schema (raw log rows) instead of refusing them.
    public var ignoreUnknownFields = false
    /// Item tables (`--item-table [MODEL=]FILE`): ranking candidates named by id get their item fields from them.
    public var itemTables: [ItemTableSetting] = []
    /// Seconds between two checks of the item tables' files for changes; 0: never reloaded.
    public var itemTablePollSeconds = 5.0
    /// `--traffic` and `--shadow` by model: how requests are shared between versions, when the model's directory
    /// has no traffic.json (which wins, and is read again on every poll).
    public var traffic: [String: TrafficPolicy] = [:]
    /// `--prediction-log`: served CTR API predictions written for training; nil when off.
    public var predictionLog: PredictionLog.Settings?
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 4 << 20
    /// `--ort-library`, when given.
    public var ortLibrary: String?
    public var pool = PoolConfiguration()
    /// Seconds between two scans of `modelPath` for new models and versions (Triton's poll mode); 0: never.
    public var repositoryPollSeconds = 0.0
    /// Bind with SO_REUSEPORT so several `--workers` processes share one port.
    public var reusePort = false
    /// This process's index under `--workers` (nil when not a worker): answered as `x-clickwise-worker`.
    public var workerIndex: Int?
    /// Seconds from a request's first byte until its whole head must have arrived (0: no deadline).
    public var requestHeaderTimeoutSeconds = 30.0
    /// Seconds allowed between two reads of a request body (0: no limit).
    public var requestBodyTimeoutSeconds = 30.0
    /// Seconds a keep-alive connection may sit idle before it is closed (0: no limit).
    public var keepAliveTimeoutSeconds = 75.0
    /// Most open client connections; nil derives it from the descriptor limit (`resolvedMaxConnections`).
    public var maxConnections: Int?
    /// Under the connection cap, connections idle or stalled mid-request this long are closed to make room.
    public var connectionPressureGraceSeconds = 2.0

    /// Creates a configuration serving `modelPath` with defaults for the rest.
    public init(modelPath: String) {
        self.modelPath = modelPath
    }

    /// The event-loop thread count to start on a machine with `cores` cores, given `inferenceThreads` in total.
    ///
    /// Event loops and inference threads share the cores; on 2 cores one loop beside the inference threads
    /// served DeepFM as fast as or faster than two (docs/BENCHMARKS.md, 2026-11-29), with less contention.
    public func resolvedEventLoopThreads(cores: Int, inferenceThreads: Int) -> Int {
        eventLoopThreads > 0 ? eventLoopThreads : max(1, cores - inferenceThreads)
    }

    /// The connection cap: `maxConnections`, else RLIMIT_NOFILE's soft limit less the descriptors the
    /// process needs for itself (`ConnectionLimitHandler.reservedDescriptors`).
    public func resolvedMaxConnections() -> Int {
        if let maxConnections { return maxConnections }
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let soft = Int(clamping: min(limit.rlim_cur, rlim_t(Int32.max)))  // RLIM_INFINITY is all ones
        return ConnectionLimitHandler.defaultMaxConnections(descriptorLimit: soft)
    }

    var connectionTimeouts: ConnectionTimerState.Timeouts {
        func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1e9) }
        return .init(head: nanoseconds(requestHeaderTimeoutSeconds), body: nanoseconds(requestBodyTimeoutSeconds),
                     idle: nanoseconds(keepAliveTimeoutSeconds))
    }
}
