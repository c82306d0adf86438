import ONNXRuntime

/// How the serving core runs a model: sessions, threads, batching and the queue bound.
public struct PoolConfiguration: Sendable, Equatable {
    /// Sessions in the pool (or, with `sharedSession`, inference threads sharing one session).
    public var poolSize: Int = 1
    /// One session run concurrently by `poolSize` threads instead of one session per thread.
    public var sharedSession = false
    public var intraOpThreads = 1
    public var interOpThreads = 1
    public var graphOptimization: ORTSessionOptions.GraphOptimizationLevel = .all
    public var allowSpinning = false
    /// "cpu" or another ONNX Runtime provider name ("xnnpack"); one not in the build is a start-up error.
    public var executionProvider = "cpu"
    /// Most rows merged into one Run across requests; 1 turns batching off.
    public var maxBatchSize = 1
    /// How long a free thread waits for more rows after the oldest queued request arrived.
    public var maxQueueDelayMicroseconds = 0
    /// Threads that take half of a large run's rows from an inference thread (0: none): how a large request
    /// (a ranking list) uses an idle core without a second inference thread, which would split single-row
    /// traffic into smaller batches (measured: 0.78x single-row requests/s at `--pool-size 2` on 2 cores).
    public var splitThreads = 0
    /// Rows one request needs before half of its run goes to a split thread.
    public var splitMinRows = 32
    /// Most requests waiting; one more is refused (HTTP 503).
    public var maxQueueSize = 1024
    /// Pooled sessions share one copy of the model's weights: initializers of at least `sharedWeightMinimumBytes`
    /// through `AddInitializer` (one user-owned buffer for all sessions), the rest through the prepacked-weights
    /// container (which shares only pre-packed Gemm/MatMul weights). Off: every session holds its own copy.
    public var shareWeights = true
    /// Smallest initializer shared through `AddInitializer` (0 shares every one).
    public var sharedWeightMinimumBytes = 0
    /// ONNX Runtime's CPU memory arena for activations (`enable_cpu_mem_arena`).
    public var cpuMemoryArena = true
    /// Memory-pattern planning, cached per input shape (`enable_mem_pattern`).
    public var memoryPattern = true
    /// Sessions allocate from one arena registered on the environment instead of one arena each.
    public var environmentAllocator = false

    /// The defaults: one session, one thread, no batching.
    public init() {}

    /// Inference threads to start.
    public var threadCount: Int { max(1, poolSize) }

    /// Session options for this configuration.
    func makeSessionOptions(environment: ORTEnvironment) throws(ServingError) -> ORTSessionOptions {
        do {
            let options = try ORTSessionOptions(runtime: environment.runtime)
            try options.setCPUMemoryArena(cpuMemoryArena)
            try options.setMemoryPattern(memoryPattern)
            if environmentAllocator { try options.useEnvironmentAllocator(environment) }
            try options.setIntraOpThreads(intraOpThreads)
            try options.setInterOpThreads(interOpThreads)
            try options.setExecutionMode(interOpThreads > 1 ? .parallel : .sequential)
            try options.setGraphOptimizationLevel(graphOptimization)
            try options.setAllowSpinning(allowSpinning)
            switch executionProvider.lowercased() {
            case "cpu": break
            case "xnnpack": try options.appendExecutionProvider("XNNPACK", options: ["intra_op_num_threads": String(intraOpThreads)])
            default: try options.appendExecutionProvider(executionProvider)
            }
            return options
        } catch {
            throw ServingError(.modelLoad, "session options: \(error.message)")
        }
    }

    /// The sessions of a pool over `modelPath` (one when shared), sharing one copy of the large weights when
    /// configured and there is more than one session.
    func makeSessions(modelPath: String, environment: ORTEnvironment) throws(ServingError) -> (sessions: [ORTSession], sharedWeights: ORTSharedInitializers?) {
        let options = try makeSessionOptions(environment: environment)
        let count = sharedSession ? 1 : threadCount
        var sessions: [ORTSession] = []
        let sharedWeights: ORTSharedInitializers?
        do {
            // One session has nobody to share with; its own copy costs the same and keeps ONNX Runtime's path.
            if shareWeights && count > 1 {
                let weights = try ORTSharedInitializers(modelPath: modelPath, environment: environment, minimumBytes: sharedWeightMinimumBytes)
                try options.addInitializers(weights)
                sharedWeights = weights
            } else {
                sharedWeights = nil
            }
            let container = shareWeights ? try ORTPrepackedWeights(environment: environment) : nil
            for _ in 0..<count {
                sessions.append(try ORTSession(path: modelPath, options: options, environment: environment, prepackedWeights: container))
            }
        } catch {
            throw ServingError(.modelLoad, "cannot load \(modelPath): \(error.message)")
        }
        return (sessions, sharedWeights)
    }
}
