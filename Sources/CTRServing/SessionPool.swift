import CTRFeatures
import Foundation
import ONNXRuntime

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
    private let queue: BatchQueue
    private let threads: ThreadGroup
    private let sparseName: String
    private let denseName: String

    /// Loads `bundle` into `configuration.poolSize` sessions and starts the inference threads.
    public init(bundle: ModelBundle, configuration: PoolConfiguration, environment: ORTEnvironment, metrics: ServingMetrics) throws(ServingError) {
        self.bundle = bundle
        self.configuration = configuration
        self.metrics = metrics
        encoder = FeatureEncoder(map: bundle.featureMap)
        sparseName = bundle.featureMap.sparseInputName
        denseName = bundle.featureMap.denseInputName
        let options = try configuration.makeSessionOptions(runtime: environment.runtime)
        var sessions: [ORTSession] = []
        do {
            let container = configuration.shareWeights ? try ORTPrepackedWeights(environment: environment) : nil
            let count = configuration.sharedSession ? 1 : configuration.threadCount
            for _ in 0..<count {
                sessions.append(try ORTSession(path: bundle.modelPath, options: options, environment: environment, prepackedWeights: container))
            }
        } catch {
            throw ServingError(.modelLoad, "cannot load \(bundle.modelPath): \(error.message)")
        }
        try Self.checkSignature(sessions[0], map: bundle.featureMap, path: bundle.modelPath)
        self.sessions = sessions
        queue = BatchQueue(capacity: configuration.maxQueueSize, maxRows: configuration.maxBatchSize,
                           maxDelayNanoseconds: UInt64(max(0, configuration.maxQueueDelayMicroseconds)) * 1_000)
        threads = ThreadGroup()
        for index in 0..<configuration.threadCount {
            let session = sessions[configuration.sharedSession ? 0 : index]
            let worker = InferenceWorker(session: session, queue: queue, metrics: metrics, maxBatchRows: configuration.maxBatchSize)
            threads.start(name: "clickwise-infer-\(index)") { worker.run() }
        }
    }

    deinit { shutdown() }

    /// The model must take `sparse_ids` int64 [B,26] and `dense` float [B,13] and give [B,1] floats, in that order.
    private static func checkSignature(_ session: ORTSession, map: FeatureMap, path: String) throws(ServingError) {
        let inputs = session.inputs
        guard inputs.count == 2, inputs[0].name == map.sparseInputName, inputs[1].name == map.denseInputName else {
            throw ServingError(.modelLoad, "\(path) takes inputs \(inputs.map(\.name)); features.json expects [\(map.sparseInputName), \(map.denseInputName)]")
        }
        guard inputs[0].elementType == .int64, inputs[0].shape.last == Int64(CriteoSchema.categoricalCount),
              inputs[1].elementType == .float, inputs[1].shape.last == Int64(CriteoSchema.denseCount) else {
            throw ServingError(.modelLoad, "\(path) inputs are \(inputs); expected int64 [batch,26] and float32 [batch,13]")
        }
        guard let output = session.outputs.first, output.elementType == .float, output.shape.count == 2, output.shape[1] == 1 else {
            throw ServingError(.modelLoad, "\(path) output is \(session.outputs); expected float32 [batch,1]")
        }
    }

    /// Queues a job; a full queue or a stopping pool refuses it at once without calling its completion.
    public func submit(_ job: InferenceJob) throws(ServingError) {
        switch queue.submit(job) {
        case .accepted:
            return
        case .full:
            metrics.queueRejected()
            throw ServingError(.queueFull, "the inference queue is full (\(configuration.maxQueueSize) requests waiting); retry shortly")
        case .stopped:
            throw ServingError(.shuttingDown, "the server is shutting down")
        }
    }

    /// Requests waiting for a thread.
    public var queueDepth: Int { queue.depth }

    /// Runs batches of 1 and `maxBatchSize` rows (and 64) through every session so the first requests are not slow.
    public func warmUp() throws(ServingError) {
        for session in sessions {
            for rows in Set([1, max(1, min(configuration.maxBatchSize, 256)), 64]) {
                var ids = [Int64](repeating: 0, count: rows * CriteoSchema.categoricalCount)
                var dense = [Float](repeating: 0, count: rows * CriteoSchema.denseCount)
                // A real row of all-missing values: ids point at each field's missing slot.
                for row in 0..<rows {
                    for field in 0..<CriteoSchema.categoricalCount {
                        ids[row * CriteoSchema.categoricalCount + field] = encoder.categoricalID(field: field, string: nil)
                    }
                    for field in 0..<CriteoSchema.denseCount { dense[row * CriteoSchema.denseCount + field] = encoder.denseValue(field: field, raw: nil) }
                }
                var output = [Float](repeating: 0, count: rows)
                do {
                    try ids.withUnsafeMutableBufferPointer { idBuffer throws(ORTError) in
                        try dense.withUnsafeMutableBufferPointer { denseBuffer throws(ORTError) in
                            try output.withUnsafeMutableBufferPointer { outBuffer throws(ORTError) in
                                try session.run(inputs: [ORTTensorView(idBuffer, shape: [Int64(rows), 26]), ORTTensorView(denseBuffer, shape: [Int64(rows), 13])],
                                                outputs: [ORTTensorView(outBuffer, shape: [Int64(rows), 1])])
                            }
                        }
                    }
                } catch {
                    throw ServingError(.modelLoad, "warm-up run of \(bundle.modelPath) failed: \(error.message)")
                }
            }
        }
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
    let queue: BatchQueue
    let metrics: ServingMetrics
    let maxBatchRows: Int
    var ids: UnsafeMutableBufferPointer<Int64>
    var dense: UnsafeMutableBufferPointer<Float>
    var output: UnsafeMutableBufferPointer<Float>

    init(session: ORTSession, queue: BatchQueue, metrics: ServingMetrics, maxBatchRows: Int) {
        self.session = session
        self.queue = queue
        self.metrics = metrics
        self.maxBatchRows = max(1, maxBatchRows)
        ids = .allocate(capacity: self.maxBatchRows * 26)
        dense = .allocate(capacity: self.maxBatchRows * 13)
        output = .allocate(capacity: self.maxBatchRows)
    }

    deinit {
        ids.deallocate()
        dense.deallocate()
        output.deallocate()
    }

    func run() {
        var batch: [InferenceJob] = []
        var live: [InferenceJob] = []
        var waits: [Double] = []
        batch.reserveCapacity(64)
        live.reserveCapacity(64)
        waits.reserveCapacity(64)
        while queue.nextBatch(into: &batch) {
            let now = MonotonicClock.nanoseconds()
            live.removeAll(keepingCapacity: true)
            waits.removeAll(keepingCapacity: true)
            for job in batch {
                let wait = MonotonicClock.seconds(from: job.enqueuedAt, to: now)
                if job.deadline != 0 && now > job.deadline {
                    metrics.deadlineExpired(queueWait: wait)
                    job.completion(.failure(ServingError(.deadlineExpired,
                        "request deadline expired after \(Int(wait * 1_000)) ms in the queue; nothing was run")))
                    continue
                }
                live.append(job)
                waits.append(wait)
            }
            batch.removeAll(keepingCapacity: true)
            guard !live.isEmpty else { continue }
            runBatch(live, waits: waits)
        }
    }

    private func runBatch(_ jobs: [InferenceJob], waits: [Double]) {
        let rows = jobs.reduce(0) { $0 + $1.rows }
        metrics.runningChanged(by: 1)
        let start = MonotonicClock.nanoseconds()
        var failure: ORTError?
        if jobs.count == 1 {
            // One request: run straight on its own buffers, no copy.
            let job = jobs[0]
            failure = runOnce(ids: job.ids, dense: job.dense, output: job.output, rows: rows)
        } else {
            var offset = 0
            for job in jobs {
                (ids.baseAddress! + offset * 26).update(from: job.ids.baseAddress!, count: job.rows * 26)
                (dense.baseAddress! + offset * 13).update(from: job.dense.baseAddress!, count: job.rows * 13)
                offset += job.rows
            }
            failure = runOnce(ids: UnsafeMutableBufferPointer(rebasing: ids[0..<(rows * 26)]),
                              dense: UnsafeMutableBufferPointer(rebasing: dense[0..<(rows * 13)]),
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
        metrics.batchRan(rows: rows, runSeconds: MonotonicClock.seconds(from: start, to: end), queueWaits: waits, failed: failure != nil)
        for job in jobs {
            if let failure {
                job.completion(.failure(ServingError(.inference, "inference failed: \(failure.message)")))
            } else {
                job.completion(.success(UnsafeBufferPointer(job.output)))
            }
        }
    }

    private func runOnce(ids: UnsafeMutableBufferPointer<Int64>, dense: UnsafeMutableBufferPointer<Float>,
                         output: UnsafeMutableBufferPointer<Float>, rows: Int) -> ORTError? {
        let views = (ORTTensorView(ids, shape: [Int64(rows), 26]), ORTTensorView(dense, shape: [Int64(rows), 13]),
                     ORTTensorView(output, shape: [Int64(rows), 1]))
        do {
            try withUnsafeTemporaryAllocation(of: ORTTensorView.self, capacity: 3) { (buffer) throws(ORTError) in
                buffer.initialize(repeating: views.0)
                buffer[1] = views.1
                buffer[2] = views.2
                try session.run(inputs: UnsafeBufferPointer(rebasing: buffer[0..<2]), outputs: UnsafeBufferPointer(rebasing: buffer[2..<3]))
            }
            return nil
        } catch {
            return error
        }
    }
}
