import Synchronization

/// One model's inference counters in Triton's statistics terms (`/v2/models/{m}/stats`, gRPC ModelStatistics).
///
/// Durations are totals in nanoseconds with their counts, as Triton reports them, so a client can take
/// averages between two snapshots. The pool's threads record batches; the front ends' core records each
/// request's outcome. Each event also moves the model's `nv_inference_*` series on `/metrics` (``ModelMetrics``),
/// so the statistics extension and the metrics page count the same things.
public final class ModelStatistics: Sendable {
    /// A count of events and their total duration.
    public struct Duration: Sendable, Equatable {
        public var count: UInt64 = 0
        public var nanoseconds: UInt64 = 0

        mutating func add(_ ns: UInt64, count: UInt64 = 1) {
            self.count &+= count
            nanoseconds &+= ns
        }
    }

    /// Per batch size: how many runs of that size and their time inside ONNX Runtime.
    public struct Batch: Sendable, Equatable {
        public var batchSize: Int
        public var computeInfer = Duration()
    }

    /// Everything at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Milliseconds since the Unix epoch of the last request answered (0 = none yet).
        public var lastInferenceMilliseconds: UInt64 = 0
        /// Rows inferred (Triton counts batch elements).
        public var inferenceCount: UInt64 = 0
        /// ONNX Runtime runs (one per batch).
        public var executionCount: UInt64 = 0
        /// Requests answered with predictions: their whole time in the server.
        public var success = Duration()
        /// Requests that failed after being queued (deadline, inference error).
        public var fail = Duration()
        /// Time requests waited in the queue.
        public var queue = Duration()
        /// Time copying request rows into the batch buffers.
        public var computeInput = Duration()
        /// Time inside ONNX Runtime's Run, per request.
        public var computeInfer = Duration()
        /// Time handing the outputs back, per request.
        public var computeOutput = Duration()
        /// Runs by batch size (in rows), ascending.
        public var batches: [Batch] = []
    }

    private let state = Mutex(Snapshot())
    /// The same counts on `/metrics`, when exported.
    public let metrics: ModelMetrics?

    /// Creates empty statistics, mirrored into `metrics` when given.
    public init(metrics: ModelMetrics? = nil) {
        self.metrics = metrics
    }

    /// One run of `rows` rows over `requests` requests (recorded by the pool's threads).
    public func batchRan(rows: Int, requests: Int, queueNanoseconds: UInt64, inputNanoseconds: UInt64, runNanoseconds: UInt64,
                  outputNanoseconds: UInt64) {
        let n = UInt64(requests)
        state.withLock { s in
            s.executionCount &+= 1
            s.inferenceCount &+= UInt64(rows)
            s.queue.add(queueNanoseconds, count: n)
            s.computeInput.add(inputNanoseconds &* n, count: n)
            s.computeInfer.add(runNanoseconds &* n, count: n)
            s.computeOutput.add(outputNanoseconds &* n, count: n)
            if let index = s.batches.firstIndex(where: { $0.batchSize == rows }) {
                s.batches[index].computeInfer.add(runNanoseconds)
            } else {
                var batch = Batch(batchSize: rows)
                batch.computeInfer.add(runNanoseconds)
                s.batches.append(batch)
                s.batches.sort { $0.batchSize < $1.batchSize }
            }
        }
        guard let metrics else { return }
        metrics.executionCount.increment()
        metrics.inferenceCount.increment(by: Int64(rows))
        metrics.queueDuration.increment(by: Double(queueNanoseconds) / 1_000)
        metrics.computeInput.increment(by: Double(inputNanoseconds &* n) / 1_000)
        metrics.computeInfer.increment(by: Double(runNanoseconds &* n) / 1_000)
        metrics.computeOutput.increment(by: Double(outputNanoseconds &* n) / 1_000)
    }

    /// A request answered after `nanoseconds` in the server, successfully or not.
    public func requestFinished(nanoseconds: UInt64, succeeded: Bool, unixMilliseconds: UInt64) {
        state.withLock { s in
            if succeeded { s.success.add(nanoseconds) } else { s.fail.add(nanoseconds) }
            s.lastInferenceMilliseconds = unixMilliseconds
        }
        guard let metrics else { return }
        if succeeded {
            metrics.success.increment()
            metrics.requestDuration.increment(by: Double(nanoseconds) / 1_000)
        } else {
            metrics.failure.increment()
        }
    }

    /// The counters now.
    public var snapshot: Snapshot { state.withLock { $0 } }
}
