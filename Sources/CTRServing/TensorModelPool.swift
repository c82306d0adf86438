import ONNXRuntime

/// Runs a plain ONNX model (no features.json) on dedicated threads: requests carry tensors of any name, type
/// and rank, and get every output back as bytes and a shape.
///
/// Rows of concurrent requests are merged along dim 0 only when every input and output has a dynamic first
/// dimension (Triton's rule), and only requests whose other dimensions agree share a run; otherwise each
/// request runs alone. Like ``SessionPool``, ONNX Runtime is called only from the pool's own threads.
public final class TensorModelPool: Sendable {
    public let bundle: ModelBundle
    public let configuration: PoolConfiguration
    public let metrics: ServingMetrics
    /// The model's inputs and outputs as its session reports them, in the model's order.
    public let inputs: [TensorDescription]
    public let outputs: [TensorDescription]
    /// Whether requests' rows may be merged along the first dimension.
    public let batchable: Bool
    /// This model's counters in Triton's statistics terms (also on `/metrics` under Triton's names).
    public let statistics: ModelStatistics
    private let sessions: [ORTSession]
    private let sharedWeights: ORTSharedInitializers?
    private let queue: BatchQueue<TensorJob>
    private let threads: ThreadGroup

    /// Loads the model in `bundle` into `configuration.poolSize` sessions and starts the inference threads.
    public init(bundle: ModelBundle, configuration: PoolConfiguration, environment: ORTEnvironment, metrics: ServingMetrics) throws(ServingError) {
        self.bundle = bundle
        self.configuration = configuration
        self.metrics = metrics
        statistics = ModelStatistics(metrics: metrics.model(name: bundle.name, version: bundle.version))
        let (sessions, sharedWeights) = try configuration.makeSessions(modelPath: bundle.modelPath, environment: environment)
        let path = bundle.modelPath
        inputs = try sessions[0].inputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: path) }
        outputs = try sessions[0].outputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: path) }
        for tensor in inputs + outputs where tensor.elementType == .string {
            throw ServingError(.modelLoad, "\(path): tensor \"\(tensor.name)\" holds strings, which the tensor path does not serve")
        }
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw ServingError(.modelLoad, "\(path) has \(inputs.count) inputs and \(outputs.count) outputs: a served model needs at least one of each")
        }
        batchable = (inputs + outputs).allSatisfy { $0.shape.first == -1 }
        self.sessions = sessions
        self.sharedWeights = sharedWeights
        SessionPool.returnFreedHeapMemory()
        queue = BatchQueue(capacity: configuration.maxQueueSize, maxRows: batchable ? configuration.maxBatchSize : 1,
                           maxDelayNanoseconds: batchable ? UInt64(max(0, configuration.maxQueueDelayMicroseconds)) * 1_000 : 0)
        threads = ThreadGroup()
        let outputs = outputs
        for index in 0..<configuration.threadCount {
            let worker = TensorWorker(session: sessions[configuration.sharedSession ? 0 : index], outputs: outputs, queue: queue,
                                      metrics: metrics, statistics: statistics)
            threads.start(name: "clickwise-infer-\(index)") { worker.run() }
        }
    }

    deinit { shutdown() }

    /// Queues a job; a full queue or a stopping pool refuses it at once without calling its completion.
    public func submit(_ job: TensorJob) throws(ServingError) {
        try queue.enqueue(job, metrics: metrics)
    }

    /// Requests waiting for a thread.
    public var queueDepth: Int { queue.depth }

    /// Runs one request of zeros (dynamic dimensions 1) through every session, so the first request is not slow.
    ///
    /// A failure is not a load error: zeros need not be valid input for an arbitrary model (an index into a
    /// table, a shape), and the model is still servable with the inputs its users send.
    public func warmUp() {
        let shapes = inputs.map { $0.shape.map { $0 < 0 ? 1 : $0 } }
        let job = TensorJob(rows: 1, shapes: shapes, elementSizes: inputs.map { $0.elementType.byteSize ?? 1 }) { _ in }
        for input in job.inputs { input.bytes.initializeMemory(as: UInt8.self, repeating: 0) }
        for session in sessions {
            _ = try? TensorWorker.run(session, job.inputs, types: inputs.map(\.elementType))
        }
    }

    /// Stops taking jobs, lets the threads finish every queued job, and joins them. Idempotent.
    public func shutdown() {
        queue.stop()
        threads.joinAll()
    }
}

/// One inference thread's loop over a plain ONNX model: take a batch, run each group of same-shaped requests
/// as one, hand each request its rows of every output.
private final class TensorWorker: @unchecked Sendable {
    // Touched only by its own thread after start.
    let session: ORTSession
    let outputs: [TensorDescription]
    let types: [TensorElementType]
    let queue: BatchQueue<TensorJob>
    let metrics: ServingMetrics
    let statistics: ModelStatistics

    init(session: ORTSession, outputs: [TensorDescription], queue: BatchQueue<TensorJob>, metrics: ServingMetrics, statistics: ModelStatistics) {
        self.session = session
        self.outputs = outputs
        self.queue = queue
        self.metrics = metrics
        self.statistics = statistics
        types = session.inputs.map { TensorElementType(ort: $0.elementType) ?? .uint8 }
    }

    func run() {
        queue.serve(metrics: metrics, expired: { job, error in job.completion(.failure(error)) }) { jobs, waits in
            // Requests whose non-batch dimensions differ cannot share a tensor: run each shape group on its own.
            var remaining = Array(zip(jobs, waits))
            while let first = remaining.first {
                let shape = first.0.innerShapes
                let group = remaining.filter { $0.0.innerShapes == shape }
                remaining.removeAll { $0.0.innerShapes == shape }
                runGroup(group.map(\.0), waits: group.map(\.1))
            }
        }
    }

    /// Runs `inputs` (model order) and returns every output, ONNX Runtime-allocated.
    static func run(_ session: ORTSession, _ inputs: [TensorJob.Input], types: [TensorElementType]) throws(ORTError) -> [ORTValue] {
        let views = zip(inputs, types).map { input, type in
            ORTTensorView(data: input.bytes.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 64)!, byteCount: input.bytes.count,
                          elementType: type.ort, shape: ORTShape(input.shape))
        }
        return try views.withUnsafeBufferPointer { (buffer) throws(ORTError) in try session.run(inputs: buffer) }
    }

    private func runGroup(_ jobs: [TensorJob], waits: [Double]) {
        let rows = jobs.reduce(0) { $0 + $1.rows }
        metrics.runningChanged(by: 1)
        let start = MonotonicClock.nanoseconds()
        var inputDone = start
        var results: Result<[ORTValue], ServingError>
        var merged: [UnsafeMutableRawBufferPointer] = []
        defer { for buffer in merged { buffer.deallocate() } }
        if jobs.count == 1 {
            results = Result { () throws(ORTError) in try Self.run(session, jobs[0].inputs, types: types) }
                .mapError { ServingError(.inference, "inference failed: \($0.message)") }
        } else {
            // Concatenate every request's rows of each input along dim 0.
            var inputs: [TensorJob.Input] = []
            for index in jobs[0].inputs.indices {
                let total = jobs.reduce(0) { $0 + $1.inputs[index].bytes.count }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 64)
                merged.append(buffer)
                var offset = 0
                for job in jobs {
                    let part = job.inputs[index].bytes
                    if part.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: part.baseAddress!, byteCount: part.count) }
                    offset += part.count
                }
                inputs.append(TensorJob.Input(shape: [Int64(rows)] + jobs[0].inputs[index].shape.dropFirst(),
                                              bytes: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<total])))
            }
            inputDone = MonotonicClock.nanoseconds()
            results = Result { () throws(ORTError) in try Self.run(session, inputs, types: types) }
                .mapError { ServingError(.inference, "inference failed: \($0.message)") }
            if case .success(let values) = results {
                for (value, output) in zip(values, outputs) where value.shape.first != Int64(rows) {
                    results = .failure(ServingError(.inference,
                        "output \"\(output.name)\" has shape \(value.shape) for a batch of \(rows) rows: its first dimension is not the batch"))
                }
            }
        }
        let end = MonotonicClock.nanoseconds()
        metrics.runningChanged(by: -1)
        let failed: Bool
        if case .failure = results { failed = true } else { failed = false }
        metrics.batchRan(rows: rows, runSeconds: MonotonicClock.seconds(from: inputDone, to: end), queueWaits: waits, failed: failed)
        switch results {
        case .failure(let error):
            for job in jobs { job.completion(.failure(error)) }
        case .success(let values):
            statistics.batchRan(rows: rows, requests: jobs.count, queueNanoseconds: UInt64(waits.reduce(0, +) * 1e9),
                                inputNanoseconds: inputDone - start, runNanoseconds: end - inputDone,
                                outputNanoseconds: MonotonicClock.nanoseconds() - end)
            var firstRow = 0
            for job in jobs {
                let outputs = zip(values, outputs).map { value, output -> TensorJob.Output in
                    let all = UnsafeRawBufferPointer(start: value.view.data, count: value.view.byteCount)
                    guard jobs.count > 1 else {
                        return TensorJob.Output(name: output.name, elementType: output.elementType, shape: Array(value.shape), bytes: all)
                    }
                    let rowBytes = rows > 0 ? all.count / rows : 0
                    return TensorJob.Output(name: output.name, elementType: output.elementType,
                                            shape: [Int64(job.rows)] + value.shape.dropFirst(),
                                            bytes: UnsafeRawBufferPointer(rebasing: all[(firstRow * rowBytes)..<((firstRow + job.rows) * rowBytes)]))
                }
                job.completion(.success(outputs))
                firstRow += job.rows
            }
            withExtendedLifetime(values) {}
        }
    }
}
