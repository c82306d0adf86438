import CTRServing

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
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 4 << 20
    /// `--ort-library`, when given.
    public var ortLibrary: String?
    public var pool = PoolConfiguration()
    /// Bind with SO_REUSEPORT so several `--workers` processes share one port.
    public var reusePort = false
    /// This process's index under `--workers` (nil when not a worker): answered as `x-clickwise-worker`.
    public var workerIndex: Int?

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
}
