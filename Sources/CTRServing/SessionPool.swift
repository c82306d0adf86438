import CTRFeatures
import Foundation
import ONNXRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Runs a CTR model's inference jobs on dedicated threads over a pool of ONNX Runtime sessions (or one shared one).
///
/// Jobs enter a bounded `BatchQueue`; any free thread takes the next batch, so no job waits behind a busy
/// session while another is idle. ONNX Runtime is only ever called from these threads, never from an event loop
/// or the Swift concurrency pool. Thread-safe: `submit` may be called from any thread.
public final class SessionPool: Sendable {
    public let bundle: ModelBundle
    public let configuration: PoolConfiguration
    public let metrics: ServingMetrics
    public let sessions: [ORTSession]
    public let encoder: FeatureEncoder
    /// Which job buffers feed the model's inputs, in the model's input order.
    public let layout: InputLayout
    /// This model's counters in Triton's statistics terms (also on `/metrics` under Triton's names).
    public let statistics: ModelStatistics
    /// The model's inputs and outputs as its session reports them.
    public let inputs: [TensorDescription]
    public let outputs: [TensorDescription]
    /// The one copy of the large weights every session reads, when the pool shares them.
    public let sharedWeights: ORTSharedInitializers?
    private let queue: BatchQueue<InferenceJob>
    private let threads: ThreadGroup

    /// Loads `bundle` into `configuration.poolSize` sessions and starts the inference threads.
    public init(bundle: ModelBundle, configuration: PoolConfiguration, environment: ORTEnvironment, metrics: ServingMetrics) throws(ServingError) {
        guard let map = bundle.featureMap, let encoder = bundle.encoder else {
            throw ServingError(.modelLoad, "model bundle \(bundle.directory) has no features.json: the CTR pool needs the vocabulary the model was trained with")
        }
        self.bundle = bundle
        self.configuration = configuration
        self.metrics = metrics
        statistics = ModelStatistics(metrics: metrics.model(name: bundle.name, version: bundle.version))
        self.encoder = encoder
        layout = InputLayout(signature: map.signature)
        let (sessions, sharedWeights) = try configuration.makeSessions(modelPath: bundle.modelPath, environment: environment)
        self.sharedWeights = sharedWeights
        try InputLayout.checkSignature(of: sessions[0], map: map, path: bundle.modelPath)
        inputs = try sessions[0].inputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: bundle.modelPath) }
        outputs = try sessions[0].outputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: bundle.modelPath) }
        Self.returnFreedHeapMemory()
        self.sessions = sessions
        queue = BatchQueue(capacity: configuration.maxQueueSize, maxRows: configuration.maxBatchSize,
                           maxDelayNanoseconds: UInt64(max(0, configuration.maxQueueDelayMicroseconds)) * 1_000)
        threads = ThreadGroup()
        for index in 0..<configuration.threadCount {
            let session = sessions[configuration.sharedSession ? 0 : index]
            let worker = InferenceWorker(session: session, queue: queue, metrics: metrics, statistics: statistics,
                                         maxBatchRows: configuration.maxBatchSize, layout: layout)
            threads.start(name: "clickwise-infer-\(index)") { worker.run() }
        }
    }

    deinit { shutdown() }

    /// Queues a job; a full queue or a stopping pool refuses it at once without calling its completion.
    public func submit(_ job: InferenceJob) throws(ServingError) {
        try queue.enqueue(job, metrics: metrics)
    }

    /// Requests waiting for a thread.
    public var queueDepth: Int { queue.depth }

    /// Runs batches of 1 and `maxBatchSize` rows (and 64) through every session so the first requests are not slow.
    public func warmUp() throws(ServingError) {
        for session in sessions {
            for rows in Set([1, max(1, min(configuration.maxBatchSize, 256)), 64]) {
                // Real rows of all-missing values: ids point at each field's missing id, sequences are padding.
                let job = InferenceJob(rows: rows, sparseWidth: encoder.categoricalCount, denseWidth: encoder.numericCount,
                                       sequenceWidth: encoder.sequenceWidth) { _ in }
                for row in 0..<rows {
                    for field in 0..<encoder.categoricalCount {
                        job.ids[row * encoder.categoricalCount + field] = encoder.categoricalID(field: field, utf8: nil)
                    }
                    for field in 0..<encoder.numericCount {
                        job.dense[row * encoder.numericCount + field] = encoder.denseValue(field: field, raw: nil)
                    }
                    for field in encoder.sequenceLengths.indices {
                        encoder.encodeSequence(field: field, utf8: nil,
                                               into: job.sequences.baseAddress! + row * encoder.sequenceWidth + encoder.sequenceStarts[field])
                    }
                }
                if let error = layout.run(session, ids: job.ids, dense: job.dense, sequences: job.sequences, output: job.output, rows: rows) {
                    throw ServingError(.modelLoad, "warm-up run of \(bundle.modelPath) failed: \(error.message)")
                }
            }
        }
    }

    /// Gives the heap's free pages back to the kernel after sessions were created (or a retired pool's freed).
    ///
    /// Every session parses model.onnx and frees the big protobuf buffers again; glibc raises its mmap threshold
    /// with each large free, so the later buffers come from the heap and stay resident after being freed: about
    /// 4 MB per pooled session, measured (bench/pool_memory.sh, docs/BENCHMARKS.md). One trim returns them.
    public static func returnFreedHeapMemory() {
        #if canImport(Glibc)
        // <malloc.h> is not in Swift's Glibc module: look the function up like the ONNX Runtime slots.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
        #endif
    }

    /// Stops taking jobs, lets the threads finish every queued job, and joins them. Idempotent.
    public func shutdown() {
        queue.stop()
        threads.joinAll()
    }
}

/// One inference thread's loop: take a batch, run it, hand each job its rows.
private final class InferenceWorker: @unchecked Sendable {
    // Touched only by its own thread after start.
    let session: ORTSession
    let queue: BatchQueue<InferenceJob>
    let metrics: ServingMetrics
    let statistics: ModelStatistics
    let maxBatchRows: Int
    let layout: InputLayout
    var ids: UnsafeMutableBufferPointer<Int64>
    var dense: UnsafeMutableBufferPointer<Float>
    var sequences: UnsafeMutableBufferPointer<Int64>
    var output: UnsafeMutableBufferPointer<Float>

    init(session: ORTSession, queue: BatchQueue<InferenceJob>, metrics: ServingMetrics, statistics: ModelStatistics, maxBatchRows: Int, layout: InputLayout) {
        self.session = session
        self.queue = queue
        self.metrics = metrics
        self.statistics = statistics
        self.maxBatchRows = max(1, maxBatchRows)
        self.layout = layout
        ids = .allocate(capacity: max(1, self.maxBatchRows * layout.sparseWidth))
        dense = .allocate(capacity: max(1, self.maxBatchRows * layout.denseWidth))
        sequences = .allocate(capacity: max(1, self.maxBatchRows * layout.sequenceWidth))
        output = .allocate(capacity: self.maxBatchRows)
    }

    deinit {
        ids.deallocate()
        dense.deallocate()
        sequences.deallocate()
        output.deallocate()
    }

    func run() {
        queue.serve(metrics: metrics, expired: { job, error in job.completion(.failure(error)) }) { jobs, waits in
            runBatch(jobs, waits: waits)
        }
    }

    private func runBatch(_ jobs: [InferenceJob], waits: [Double]) {
        let rows = jobs.reduce(0) { $0 + $1.rows }
        metrics.runningChanged(by: 1)
        let start = MonotonicClock.nanoseconds()
        var failure: ORTError?
        var inputDone = start
        if jobs.count == 1 {
            // One request: run straight on its own buffers, no copy.
            let job = jobs[0]
            failure = layout.run(session, ids: job.ids, dense: job.dense, sequences: job.sequences, output: job.output, rows: rows)
        } else {
            var offset = 0
            let sw = layout.sparseWidth, dw = layout.denseWidth, qw = layout.sequenceWidth
            for job in jobs {
                if sw > 0 { (ids.baseAddress! + offset * sw).update(from: job.ids.baseAddress!, count: job.rows * sw) }
                if dw > 0 { (dense.baseAddress! + offset * dw).update(from: job.dense.baseAddress!, count: job.rows * dw) }
                if qw > 0 { (sequences.baseAddress! + offset * qw).update(from: job.sequences.baseAddress!, count: job.rows * qw) }
                offset += job.rows
            }
            inputDone = MonotonicClock.nanoseconds()
            failure = layout.run(session, ids: UnsafeMutableBufferPointer(rebasing: ids[0..<(rows * sw)]),
                                 dense: UnsafeMutableBufferPointer(rebasing: dense[0..<(rows * dw)]),
                                 sequences: UnsafeMutableBufferPointer(rebasing: sequences[0..<(rows * qw)]),
                                 output: UnsafeMutableBufferPointer(rebasing: output[0..<rows]), rows: rows)
            if failure == nil {
                offset = 0
                for job in jobs {
                    job.output.baseAddress!.update(from: output.baseAddress! + offset, count: job.rows)
                    offset += job.rows
                }
            }
        }
        let end = MonotonicClock.nanoseconds()
        metrics.runningChanged(by: -1)
        metrics.batchRan(rows: rows, runSeconds: MonotonicClock.seconds(from: inputDone, to: end), queueWaits: waits, failed: failure != nil)
        if failure == nil {
            statistics.batchRan(rows: rows, requests: jobs.count, queueNanoseconds: UInt64(waits.reduce(0, +) * 1e9),
                                inputNanoseconds: inputDone - start, runNanoseconds: end - inputDone,
                                outputNanoseconds: MonotonicClock.nanoseconds() - end)
        }
        for job in jobs {
            if let failure {
                job.completion(.failure(ServingError(.inference, "inference failed: \(failure.message)")))
            } else {
                job.completion(.success(UnsafeBufferPointer(job.output)))
            }
        }
    }
}
