import CTRFeatures
import Foundation
import ONNXRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One served model version and the threads that run it: every model, a plain ONNX file or a CTR bundle,
/// is served by one of these.
///
/// Requests carry tensors in the model's input order (``InferenceJob``); a CTR bundle's ``encoding`` stage
/// makes them from raw rows. Rows of concurrent requests are merged along dim 0 only when the model batches
/// (every input and output has a dynamic first dimension: Triton's rule), and only requests whose other
/// dimensions agree share a run. Jobs enter a bounded ``BatchQueue``; any free thread takes the next batch,
/// so no job waits behind a busy session while another is idle. ONNX Runtime is only ever called from these
/// threads, never from an event loop or the Swift concurrency pool. Thread-safe: `submit` may be called from
/// any thread.
public final class ModelPool: Sendable {
    public let bundle: ModelBundle
    public let configuration: PoolConfiguration
    public let metrics: ServingMetrics
    /// The model's inputs and outputs as its session reports them, in the model's order.
    public let inputs: [TensorDescription]
    public let outputs: [TensorDescription]
    /// The inputs requests carry, in the order jobs hold them: the model's inputs, or with a
    /// `config.pbtxt` its inputs as the config states them (batch dimension -1 first when the model batches).
    public let requestInputs: [TensorDescription]
    /// Request inputs whose shapes may differ between requests of one run (`allow_ragged_batch`).
    public var raggedInputs: Set<Int> { plan.ragged }
    /// Whether each request must be one row: the model has batch inputs, built with one entry per request.
    public var oneRowPerRequest: Bool { !(spec?.batchInputs.isEmpty ?? true) }
    /// Most rows one request may carry when a `config.pbtxt` says so (its `max_batch_size`).
    public var maxRowsPerRequest: Int? { spec.flatMap { $0.maxBatchSize > 0 ? $0.maxBatchSize : nil } }
    /// Whether requests carry a batch dimension, so that their rows may be merged along it.
    public let batchable: Bool
    /// The `config.pbtxt` settings the model is served with, if it has the file.
    public let spec: ModelServingSpec?
    /// The raw-row stage of a CTR bundle (it has features.json); nil for a plain ONNX model.
    public let encoding: FeatureEncodingStage?
    /// How `:rank` requests become this pool's jobs when it serves the bundle's ranking graph; nil for the flat graph.
    public let ranking: RankingLayout?
    /// This model's counters in Triton's statistics terms (also on `/metrics` under Triton's names).
    public let statistics: ModelStatistics
    /// The one copy of the large weights every session reads, when the pool shares them.
    public let sharedWeights: ORTSharedInitializers?
    private let sessions: [ORTSession]
    private let plan: RunPlan
    private let queue: BatchQueue<InferenceJob>
    private let threads: ThreadGroup
    private let splitHelpers: [SplitHelper]
    private let helperThreads: ThreadGroup

    /// Which of a bundle's graphs a pool serves.
    public enum Graph: Sendable {
        /// model.onnx: one row per prediction (every model has it).
        case flat
        /// ranking.onnx: a request's context once, its candidates per row (``RankingLayout``).
        case ranking
    }

    /// Loads the model in `bundle` into `configuration.poolSize` sessions and starts the inference threads.
    ///
    /// A CTR bundle's model must take exactly the inputs its features.json's signature lists.
    /// A `spec` (from the model's `config.pbtxt`) overrides the inferred batching rule, the inputs' shapes, and
    /// the instance count and batching settings of `configuration`. A `.ranking` pool serves the bundle's
    /// ranking.onnx and counts into `statistics` (the flat pool's: the model's statistics stay one set).
    public init(bundle: ModelBundle, configuration base: PoolConfiguration, environment: ORTEnvironment, metrics: ServingMetrics,
                spec: ModelServingSpec? = nil, graph: Graph = .flat, statistics shared: ModelStatistics? = nil) throws(ServingError) {
        let configuration = spec?.applied(to: base) ?? base
        self.bundle = bundle
        self.configuration = configuration
        self.spec = spec
        self.metrics = metrics
        statistics = shared ?? ModelStatistics(metrics: metrics.model(name: bundle.name, version: bundle.version))
        let path: String
        switch graph {
        case .flat: path = bundle.modelPath
        case .ranking:
            guard let rankingPath = bundle.rankingPath, bundle.featureMap != nil else {
                throw ServingError(.modelLoad, "model bundle \(bundle.directory) has no ranking.onnx with a features.json")
            }
            path = rankingPath
        }
        let (sessions, sharedWeights) = try configuration.makeSessions(modelPath: path, environment: environment)
        if let map = bundle.featureMap, let encoder = bundle.encoder {
            if graph == .flat { try InputLayout.checkSignature(of: sessions[0], map: map, path: path) }
            encoding = FeatureEncodingStage(map: map, encoder: encoder)
        } else {
            encoding = nil
        }
        inputs = try sessions[0].inputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: path) }
        outputs = try sessions[0].outputs.map { (info) throws(ServingError) in try TensorDescription.from(info, path: path) }
        for tensor in inputs + outputs where tensor.elementType == .bytes {
            throw ServingError(.modelLoad, "\(path): tensor \"\(tensor.name)\" holds strings, which the server does not serve")
        }
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw ServingError(.modelLoad, "\(path) has \(inputs.count) inputs and \(outputs.count) outputs: a served model needs at least one of each")
        }
        let plan: RunPlan
        var ranking: RankingLayout?
        if graph == .ranking, let encoding {
            guard let checked = RunPlan.ranking(inputs: inputs) else {
                throw ServingError(.modelLoad, "\(path) has no input \"\(RankingLayout.requestIndexName)\": it is not a ranking graph")
            }
            (requestInputs, plan) = (checked.requestInputs, checked.plan)
            let named = sessions[0].metadata.custom["context_fields"].map { $0.split(separator: ",").map(String.init) }
            ranking = try RankingLayout(encoding: encoding, requestInputs: requestInputs, contextFields: named, path: path)
            batchable = (inputs + outputs).allSatisfy { $0.shape.first == -1 }
        } else if let spec {
            let checked = try Self.plan(spec, inputs: inputs, outputs: outputs)
            (requestInputs, plan) = (checked.requestInputs, checked.plan)
            batchable = spec.maxBatchSize > 0
        } else {
            (requestInputs, plan) = (inputs, RunPlan(identity: inputs.count))
            batchable = (inputs + outputs).allSatisfy { $0.shape.first == -1 }
        }
        self.plan = plan
        self.ranking = ranking
        self.sessions = sessions
        self.sharedWeights = sharedWeights
        Self.returnFreedHeapMemory()
        queue = BatchQueue(capacity: configuration.maxQueueSize, maxRows: batchable ? configuration.maxBatchSize : 1,
                           maxDelayNanoseconds: batchable ? UInt64(max(0, configuration.maxQueueDelayMicroseconds)) * 1_000 : 0)
        threads = ThreadGroup()
        helperThreads = ThreadGroup()
        // Split threads run halves of large runs; they share the first session (Run is thread-safe).
        let splittable = batchable && plan.splitsByRows
        splitHelpers = splittable ? (0..<max(0, configuration.splitThreads)).map { _ in SplitHelper(session: sessions[0]) } : []
        for (index, helper) in splitHelpers.enumerated() {
            helperThreads.start(name: "clickwise-split-\(index)") { helper.loop() }
        }
        let types = inputs.map(\.elementType), outputs = outputs, requestSizes = requestInputs.map { $0.elementType.byteSize ?? 1 }
        let helpers = splitHelpers, splitMinRows = max(2, configuration.splitMinRows)
        for index in 0..<configuration.threadCount {
            let worker = InferenceWorker(session: sessions[configuration.sharedSession ? 0 : index], types: types, outputs: outputs,
                                         plan: plan, requestSizes: requestSizes, batchable: batchable,
                                         helpers: helpers, splitMinRows: splitMinRows,
                                         queue: queue, metrics: metrics, statistics: statistics, runs: runCounter)
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

    /// ONNX Runtime runs this pool's threads have made so far (a split run counts once).
    public var executions: Int { runCounter.value.load(ordering: .relaxed) }
    private let runCounter = RunCounter()

    /// Half-runs the split threads have run so far.
    public var splitRuns: Int { splitHelpers.reduce(0) { $0 + $1.runs } }

    /// Runs requests through every session so the first real ones are not slow (blocks: call off the event loops).
    ///
    /// A CTR bundle runs batches of 1, 64 and `maxBatchSize` rows of missing values, which every bundle must
    /// take: a failure is a load error. A plain model runs one request of zeros (dynamic dimensions 1), and a
    /// failure is not an error: zeros need not be valid input for an arbitrary model (an index into a table, a
    /// shape), and the model is still servable with the inputs its users send.
    public func warmUp() throws(ServingError) {
        let jobs: [InferenceJob]
        if let ranking {
            let sizes = Set([1, max(1, min(configuration.maxBatchSize, 256)), 64])
            let types = inputs.map(\.elementType)
            for session in sessions {
                for size in sizes.sorted() {
                    let job = ranking.missingValuesJob(candidates: size)
                    let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: size * 8, alignment: 64)
                    defer { zeros.deallocate() }
                    zeros.initializeMemory(as: UInt8.self, repeating: 0)
                    do throws(ORTError) {
                        _ = try InferenceWorker.run(session, plan.inputs(of: job, requestIndex: zeros), types: types)
                    } catch {
                        throw ServingError(.modelLoad, "warm-up run of \(bundle.rankingPath ?? bundle.directory) failed: \(error.message)")
                    }
                }
            }
            return
        } else if let encoding {
            let sizes = batchable ? Set([1, max(1, min(configuration.maxBatchSize, 256)), 64]) : [1]
            jobs = sizes.sorted().map { encoding.missingValuesJob(rows: $0) }
        } else {
            let shapes = inputs.map { input in input.shape.map { $0 < 0 ? Int64(1) : Int64($0) } }
            let job = InferenceJob(rows: 1, shapes: shapes, elementSizes: inputs.map { $0.elementType.byteSize ?? 1 }) { _ in }
            for input in job.inputs { input.bytes.initializeMemory(as: UInt8.self, repeating: 0) }
            jobs = [job]
        }
        // A model whose runs the server assembles (ragged or batch inputs) is warmed up by its first requests.
        guard plan.isIdentity else { return }
        let types = inputs.map(\.elementType)
        for session in sessions {
            for job in jobs {
                do {
                    _ = try InferenceWorker.run(session, job.inputs, types: types)
                } catch where encoding != nil {
                    throw ServingError(.modelLoad, "warm-up run of \(bundle.modelPath) failed: \(error.message)")
                } catch {
                    continue
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
        // The inference threads are gone, so no run waits on a split thread any more.
        for helper in splitHelpers { helper.stop() }
        helperThreads.joinAll()
    }
}

/// One inference thread's loop: take a batch, run each group of same-shaped requests as one, hand each
/// request its rows of every output.
private final class InferenceWorker: @unchecked Sendable {
    // Touched only by its own thread after start.
    let session: ORTSession
    let types: [TensorElementType]
    let outputs: [TensorDescription]
    let queue: BatchQueue<InferenceJob>
    let metrics: ServingMetrics
    let statistics: ModelStatistics
    let runs: RunCounter
    /// How request inputs become model inputs; the element size of each request input.
    let plan: RunPlan
    let requestSizes: [Int]
    let batchable: Bool
    /// Threads that may take the second half of a run of at least `splitMinRows` rows.
    let helpers: [SplitHelper]
    let splitMinRows: Int
    /// Per input, the buffer merged requests are concatenated into: kept between batches and grown to the
    /// largest batch seen, so a batch allocates nothing here.
    var merged: [UnsafeMutableRawBufferPointer]
    /// Per output, its dimensions after the batch when all are fixed and the model batches (every CTR bundle):
    /// then outputs are written into ``results``, reused between runs, instead of ONNX Runtime allocating a
    /// tensor object per output per run. Nil otherwise.
    let fixedOutputShapes: [[Int64]]?
    var results: [UnsafeMutableRawBufferPointer]
    /// The last run's outputs, reused between runs (jobs see them only during their completion).
    var produced: [InferenceJob.Outputs.Run] = []

    init(session: ORTSession, types: [TensorElementType], outputs: [TensorDescription], plan: RunPlan, requestSizes: [Int], batchable: Bool,
         helpers: [SplitHelper], splitMinRows: Int, queue: BatchQueue<InferenceJob>, metrics: ServingMetrics, statistics: ModelStatistics,
         runs: RunCounter) {
        self.session = session
        self.runs = runs
        self.helpers = helpers
        self.splitMinRows = splitMinRows
        self.plan = plan
        self.requestSizes = requestSizes
        self.batchable = batchable
        self.types = types
        self.outputs = outputs
        self.queue = queue
        self.metrics = metrics
        self.statistics = statistics
        merged = types.map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64) }
        let inner = outputs.map { Array($0.shape.dropFirst()) }
        // Only when requests carry the batch dimension is a run's first output dimension known before it runs.
        let fixed = batchable && outputs.allSatisfy { $0.shape.first == -1 && $0.elementType.byteSize != nil }
            && inner.allSatisfy { $0.allSatisfy { $0 >= 0 } }
        fixedOutputShapes = fixed ? inner : nil
        results = outputs.map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64) }
    }

    deinit {
        for buffer in merged + results { buffer.deallocate() }
    }

    func run() {
        queue.serve(metrics: metrics, expired: { job, error in job.completion(.failure(error)) }) { jobs, waits in
            guard jobs.count > 1 else { return runGroup(jobs, waits: waits) }
            // Requests whose non-batch dimensions differ cannot share a tensor: run each shape group on its own.
            var remaining = Array(zip(jobs, waits))
            while let first = remaining.first {
                let shape = key(first.0)
                let group = remaining.filter { key($0.0) == shape }
                remaining.removeAll { key($0.0) == shape }
                runGroup(group.map(\.0), waits: group.map(\.1))
            }
        }
    }

    /// What must agree for requests to share a run: every input's dimensions after the batch, ragged ones aside.
    private func key(_ job: InferenceJob) -> [ArraySlice<Int64>] {
        guard !plan.ragged.isEmpty else { return job.innerShapes }
        return job.inputs.enumerated().map { plan.ragged.contains($0.offset) ? [] : $0.element.shape.dropFirst() }
    }

    /// The model's inputs for a run of `jobs` (`rows` rows) under a plan that is not the identity: request
    /// inputs concatenated (ragged ones flattened, reshaped ones given the model's shape) and batch inputs built.
    private func assemble(_ jobs: [InferenceJob], rows: Int) -> [InferenceJob.Input] {
        var inputs: [InferenceJob.Input] = []
        inputs.reserveCapacity(plan.sources.count)
        for (index, source) in plan.sources.enumerated() {
            switch source {
            case .request(let request, let flatten, let inner):
                let bytes = jobs.count == 1 ? jobs[0].inputs[request].bytes : concatenate(jobs, input: request, into: index)
                let shape: [Int64]
                if flatten {
                    shape = [Int64(bytes.count / requestSizes[request])]
                } else if batchable {
                    shape = [Int64(rows)] + (inner ?? Array(jobs[0].inputs[request].shape.dropFirst()))
                } else {
                    shape = inner ?? jobs[0].inputs[request].shape
                }
                inputs.append(InferenceJob.Input(shape: shape, bytes: bytes))
            case .perRequest(let request):
                let bytes = jobs.count == 1 ? jobs[0].inputs[request].bytes : concatenate(jobs, input: request, into: index)
                inputs.append(InferenceJob.Input(shape: [Int64(jobs.count)] + jobs[0].inputs[request].shape.dropFirst(), bytes: bytes))
            case .requestIndex:
                let buffer = mergeBuffer(index, bytes: rows * 8)
                var position = 0
                for (number, job) in jobs.enumerated() {
                    for _ in 0..<job.rows {
                        buffer.storeBytes(of: Int64(number), toByteOffset: position * 8, as: Int64.self)
                        position += 1
                    }
                }
                inputs.append(InferenceJob.Input(shape: [Int64(rows)], bytes: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(rows * 8)])))
            case .batch(let kind, let source, let elementType):
                var values: [Int64] = []
                values.reserveCapacity(jobs.count + 1)
                if kind == .accumulatedElementCountWithZero { values.append(0) }
                var total: Int64 = 0
                for job in jobs {
                    let count = Int64(job.inputs[source].bytes.count / requestSizes[source])
                    total += count
                    values.append(kind == .elementCount ? count : total)
                }
                let size = elementType.byteSize ?? 8
                let buffer = mergeBuffer(index, bytes: values.count * size)
                for (position, value) in values.enumerated() {
                    switch elementType {
                    case .int32: buffer.storeBytes(of: Int32(truncatingIfNeeded: value), toByteOffset: position * 4, as: Int32.self)
                    case .fp32: buffer.storeBytes(of: Float(value), toByteOffset: position * 4, as: Float.self)
                    default: buffer.storeBytes(of: value, toByteOffset: position * 8, as: Int64.self)
                    }
                }
                inputs.append(InferenceJob.Input(shape: [Int64(values.count)],
                                                 bytes: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(values.count * size)])))
            }
        }
        return inputs
    }

    /// Runs `inputs` (model order) and returns every output, ONNX Runtime-allocated.
    static func run(_ session: ORTSession, _ inputs: [InferenceJob.Input], types: [TensorElementType]) throws(ORTError) -> [ORTValue] {
        try withUnsafeTemporaryAllocation(of: ORTTensorView.self, capacity: inputs.count) { (views) throws(ORTError) in
            for (index, (input, type)) in zip(inputs, types).enumerated() {
                views.initializeElement(at: index, to: input.view(type))
            }
            defer { views.deinitialize() }
            return try session.run(inputs: UnsafeBufferPointer(views))
        }
    }

    /// Every job's bytes of request input `input`, one after another in the merge buffer of model input `index`.
    private func concatenate(_ jobs: [InferenceJob], input: Int, into index: Int) -> UnsafeMutableRawBufferPointer {
        let total = jobs.reduce(0) { $0 + $1.inputs[input].bytes.count }
        let buffer = mergeBuffer(index, bytes: total)
        var offset = 0
        for job in jobs {
            let part = job.inputs[input].bytes
            if part.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: part.baseAddress!, byteCount: part.count) }
            offset += part.count
        }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<total])
    }

    /// The merge buffer of input `index`, at least `bytes` long.
    private func mergeBuffer(_ index: Int, bytes: Int) -> UnsafeMutableRawBufferPointer {
        if merged[index].count < bytes {
            merged[index].deallocate()
            merged[index] = .allocate(byteCount: max(bytes, 2 * merged[index].count), alignment: 64)
        }
        return merged[index]
    }

    /// Runs `inputs` of `rows` rows into the reused result buffers (``fixedOutputShapes`` known), recording
    /// each output in ``produced``.
    private func runIntoResults(_ inputs: [InferenceJob.Input], rows: Int, shapes: [[Int64]], split: Bool) throws(ORTError) {
        produced.removeAll(keepingCapacity: true)
        for (index, output) in outputs.enumerated() {
            let bytes = shapes[index].reduce(rows) { $0 * Int($1) } * (output.elementType.byteSize ?? 1)
            if results[index].count < bytes {
                results[index].deallocate()
                results[index] = .allocate(byteCount: max(bytes, 2 * results[index].count), alignment: 64)
            }
            produced.append(InferenceJob.Outputs.Run(bytes: UnsafeRawBufferPointer(rebasing: results[index][0..<bytes]),
                                                     firstDimension: Int64(rows), innerShape: shapes[index]))
        }
        // A run holding a large request: its second half goes to an idle split thread while this thread runs the
        // first (runs merged from many small requests are not split: that traffic keeps one thread's batches).
        var mine = 0..<rows
        var helper: SplitHelper?
        if split, let idle = helpers.first(where: { $0.claim() }) {
            let half = rows / 2
            mine = 0..<half
            idle.start(SplitHelper.Task(inputs: zip(inputs, types).enumerated().map { index, pair in
                                            plan.isPerRequest(index) ? pair.0.view(pair.1) : pair.0.view(pair.1, rows: rows, range: half..<rows)
                                        },
                                        outputs: outputs.indices.map { outputView($0, rows: half..<rows, shapes: shapes) }))
            helper = idle
        }
        // This thread's part, its views on the stack: the common, unsplit run allocates nothing here.
        var failure: ORTError?
        do throws(ORTError) {
            try withUnsafeTemporaryAllocation(of: ORTTensorView.self, capacity: inputs.count + outputs.count) { (views) throws(ORTError) in
                for (index, (input, type)) in zip(inputs, types).enumerated() {
                    // A ranking graph's context rows go whole to each half; the request indexes still point into them.
                    views.initializeElement(at: index, to: plan.isPerRequest(index) ? input.view(type) : input.view(type, rows: rows, range: mine))
                }
                for index in outputs.indices {
                    views.initializeElement(at: inputs.count + index, to: outputView(index, rows: mine, shapes: shapes))
                }
                defer { views.deinitialize() }
                try session.run(inputs: UnsafeBufferPointer(rebasing: views[0..<inputs.count]),
                                outputs: UnsafeBufferPointer(rebasing: views[inputs.count...]))
            }
        } catch {
            failure = error
        }
        if let helper, let helperFailure = helper.finish() { throw helperFailure }
        if let failure { throw failure }
    }

    /// Output `index`'s rows `range` in its result buffer (sized by ``runIntoResults``).
    private func outputView(_ index: Int, rows range: Range<Int>, shapes: [[Int64]]) -> ORTTensorView {
        let output = outputs[index]
        let rowBytes = shapes[index].reduce(1) { $0 * Int($1) } * (output.elementType.byteSize ?? 1)
        return ORTTensorView(data: results[index].baseAddress! + range.lowerBound * rowBytes, byteCount: range.count * rowBytes,
                             elementType: output.elementType.ort, shape: ORTShape(batch: Int64(range.count), inner: shapes[index]))
    }

    private func runGroup(_ jobs: [InferenceJob], waits: [Double]) {
        let rows = jobs.reduce(0) { $0 + $1.rows }
        metrics.runningChanged(by: 1)
        let start = MonotonicClock.nanoseconds()
        var inputDone = start
        var inputs: [InferenceJob.Input]
        if !plan.isIdentity {
            inputs = assemble(jobs, rows: rows)
            inputDone = MonotonicClock.nanoseconds()
        } else if jobs.count == 1 {
            // One request: run straight on its own buffers, no copy.
            inputs = jobs[0].inputs
        } else {
            // Concatenate every request's rows of each input along dim 0.
            inputs = []
            inputs.reserveCapacity(types.count)
            for index in jobs[0].inputs.indices {
                inputs.append(InferenceJob.Input(shape: [Int64(rows)] + jobs[0].inputs[index].shape.dropFirst(),
                                                 bytes: concatenate(jobs, input: index, into: index)))
            }
            inputDone = MonotonicClock.nanoseconds()
        }
        // ``produced`` holds each output over all `rows`; `values` keeps ONNX Runtime's tensors alive when it allocated them.
        var failure: ServingError?
        var values: [ORTValue] = []
        if let fixedOutputShapes {
            do throws(ORTError) {
                try runIntoResults(inputs, rows: rows, shapes: fixedOutputShapes,
                                   split: !helpers.isEmpty && jobs.contains { $0.rows >= splitMinRows })
            } catch {
                failure = ServingError(.inference, "inference failed: \(error.message)")
            }
        } else {
            do throws(ORTError) {
                values = try Self.run(session, inputs, types: types)
                produced.removeAll(keepingCapacity: true)
                for value in values {
                    produced.append(InferenceJob.Outputs.Run(bytes: UnsafeRawBufferPointer(start: value.view.data, count: value.view.byteCount),
                                                             firstDimension: value.shape.first, innerShape: Array(value.shape.dropFirst())))
                }
                if jobs.count > 1 {
                    for (value, output) in zip(values, outputs) where value.shape.first != Int64(rows) {
                        failure = ServingError(.inference,
                            "output \"\(output.name)\" has shape \(value.shape) for a batch of \(rows) rows: its first dimension is not the batch")
                    }
                }
            } catch {
                failure = ServingError(.inference, "inference failed: \(error.message)")
            }
        }
        let end = MonotonicClock.nanoseconds()
        runs.value.add(1, ordering: .relaxed)
        metrics.runningChanged(by: -1)
        metrics.batchRan(rows: rows, runSeconds: MonotonicClock.seconds(from: inputDone, to: end), queueWaits: waits, failed: failure != nil)
        if let failure {
            for job in jobs { job.completion(.failure(failure)) }
        } else {
            statistics.batchRan(rows: rows, requests: jobs.count, queueNanoseconds: UInt64(waits.reduce(0, +) * 1e9),
                                inputNanoseconds: inputDone - start, runNanoseconds: end - inputDone,
                                outputNanoseconds: MonotonicClock.nanoseconds() - end)
            if jobs.count == 1 {
                jobs[0].completion(.success(InferenceJob.Outputs(runs: produced, descriptions: outputs, slice: nil)))
            } else {
                var firstRow = 0
                for job in jobs {
                    job.completion(.success(InferenceJob.Outputs(runs: produced, descriptions: outputs, slice: (firstRow, job.rows, rows))))
                    firstRow += job.rows
                }
            }
        }
        withExtendedLifetime(values) {}
    }
}

/// A thread that runs half of another inference thread's large run, on a session Run may share.
///
/// One run at a time: an inference thread claims it (``claim()``), hands it the half (``start(_:)``), runs its
/// own half, and waits (``finish()``). The task's views point into buffers the claiming thread owns and keeps
/// alive until `finish` returns; the semaphores order the hand-over, hence `@unchecked Sendable`.
final class SplitHelper: @unchecked Sendable {
    /// The half to run: input and output views of the claiming thread's buffers.
    struct Task {
        let inputs: [ORTTensorView]
        let outputs: [ORTTensorView]
    }

    private let session: ORTSession
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    // Written by the claiming thread before `work.signal()`, read by this thread after `work.wait()`; the
    // result the other way round through `done`.
    private var task: Task?
    private var failure: ORTError?
    private let completed = Atomic<Int>(0)

    /// Half-runs done.
    var runs: Int { completed.load(ordering: .relaxed) }

    init(session: ORTSession) {
        self.session = session
    }

    /// Takes the helper for one run; false when another run has it.
    func claim() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// Starts `task` (after a successful ``claim()``).
    func start(_ task: Task) {
        self.task = task
        work.signal()
    }

    /// Waits for the task and releases the helper; the task's error, if it failed.
    func finish() -> ORTError? {
        done.wait()
        let result = failure
        failure = nil
        busy.store(false, ordering: .releasing)
        return result
    }

    /// The thread's loop, until ``stop()``.
    func loop() {
        while true {
            work.wait()
            if stopping.load(ordering: .acquiring) { return }
            if let task {
                do throws(ORTError) {
                    try session.run(inputs: task.inputs, outputs: task.outputs)
                } catch {
                    failure = error
                }
            }
            task = nil
            completed.add(1, ordering: .relaxed)
            done.signal()
        }
    }

    /// Ends the loop; call once no inference thread can claim the helper any more.
    func stop() {
        stopping.store(true, ordering: .releasing)
        work.signal()
    }
}

/// A pool's run count, shared by its inference threads.
final class RunCounter: Sendable {
    let value = Atomic<Int>(0)
}
