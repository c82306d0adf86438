import CTRFeatures
import CTRServing
import Logging
import Foundation
import ServiceLifecycle
import Synchronization

/// The engine both front ends share: the served models, their pools, readiness, metrics, and inference.
///
/// HTTP and gRPC reach it only through this narrow interface, in protocol-neutral terms (`InferRequest`,
/// `ServerError`), so the v2 checks, the CTR API encoding and the error classification exist once and are
/// unit-testable without sockets. As a `Service` it runs first in the `ServiceGroup` and stops last: the
/// group shuts down its front ends (reverse order) before `run` returns and the pools stop.
public final class InferenceCore: Service, Sendable {
    public static let version = "0.1.0"

    public let configuration: ServerConfiguration
    public let metrics: ServingMetrics
    /// Loads model instances (ONNX Runtime today), for start-up and for every later load.
    let backend: InferenceBackend
    /// Which versions of which models serve, their states, load, unload, polling, swap and drain.
    let lifecycle: ModelLifecycle<ModelEndpoint>
    let logger: Logger
    /// The front ends' requests that are between "received" and "answered": the one count, which draining
    /// waits on and `/metrics` reports.
    let inFlight = InFlightRequests()
    private let isReady = Atomic<Bool>(false)
    private let isDraining = Atomic<Bool>(false)
    private let readiness = Readiness()
    /// gRPC health watches, told whenever readiness may have changed (warm-up, drain, a version served or retired).
    let healthWatchers: HealthWatchers
    /// The `--item-table` files and the models they fill.
    let itemTables: ItemTables
    /// `--prediction-log`: where served CTR API predictions are written; nil when off.
    public let predictionLog: PredictionLog?
    /// The `/v2` extensions, each of which works on both protocols.
    public static let extensions = ["binary_tensor_data", "statistics", "model_configuration", "model_repository", "metrics"]

    /// Loads the inference backend and the newest version of every model, and starts their inference threads (not yet warmed up).
    public static func build(_ configuration: ServerConfiguration, logger: Logger = Logger(label: "clickwise")) throws(ServingError) -> InferenceCore {
        let backend = try InferenceBackend.onnxRuntime(libraryPath: configuration.ortLibrary)
        let metrics = ServingMetrics(routes: Route.labels + RPCRoute.labels)
        let itemTables = try ItemTables(configuration.itemTables)
        let predictionLog = try configuration.predictionLog.map { (settings) throws(ServingError) in
            try PredictionLog(settings: settings, registry: metrics.registry, logger: logger)
        }
        // A failed start stops the prediction log's writer (the lifecycle stops the pools it began).
        var started = false
        defer { if !started { predictionLog?.stop() } }
        let healthWatchers = HealthWatchers()
        let lifecycle = try ModelLifecycle<ModelEndpoint>(
            modelPath: configuration.modelPath, traffic: configuration.traffic, logger: logger,
            make: { (bundle) throws(ServingError) in
                let endpoint = try makeEndpoint(bundle, backend: backend, configuration: configuration, metrics: metrics, warm: false)
                do throws(ServingError) {
                    try itemTables.attach(to: endpoint)
                } catch {
                    endpoint.shutdown()
                    throw error
                }
                return endpoint
            },
            loader: { (bundle) throws(ServingError) in
                try makeEndpoint(bundle, backend: backend, configuration: configuration, metrics: metrics, warm: true)
            },
            attach: { endpoint in
                do throws(ServingError) {
                    try itemTables.attach(to: endpoint)
                } catch {
                    logger.error("model \(endpoint.name) version \(endpoint.bundle.version) serves without an item table: \(error.message)")
                }
            },
            changed: { healthWatchers.notify() })
        let endpoints = lifecycle.endpoints
        for setting in configuration.itemTables {
            if let model = setting.model, endpoints[model] == nil {
                lifecycle.stop()
                throw ServingError(.modelLoad, "--item-table \(model)=\(setting.path): no model \"\(model)\" is served (models: \(endpoints.keys.sorted().joined(separator: ", ")))")
            }
        }
        started = true
        return InferenceCore(configuration: configuration, metrics: metrics, backend: backend, lifecycle: lifecycle,
                             healthWatchers: healthWatchers, itemTables: itemTables, predictionLog: predictionLog, logger: logger)
    }

    /// The one way a bundle becomes a served endpoint: its pool of sessions with running inference threads,
    /// warmed up when `warm` (start-up warms every model later, in ``warmUp()``).
    ///
    /// Blocks for as long as ONNX Runtime loads and runs: call it on a plain thread, never on an event loop
    /// or Swift's cooperative pool. A failed warm-up stops the pool it started.
    static func makeEndpoint(_ bundle: ModelBundle, backend: InferenceBackend, configuration: ServerConfiguration,
                             metrics: ServingMetrics, warm: Bool) throws(ServingError) -> ModelEndpoint {
        let endpoint = try ModelEndpoint.make(bundle, backend: backend, configuration: configuration, metrics: metrics)
        if warm {
            do throws(ServingError) {
                try endpoint.warmUp()
            } catch {
                endpoint.shutdown()
                throw error
            }
        }
        return endpoint
    }

    private init(configuration: ServerConfiguration, metrics: ServingMetrics, backend: InferenceBackend,
                 lifecycle: ModelLifecycle<ModelEndpoint>, healthWatchers: HealthWatchers, itemTables: ItemTables,
                 predictionLog: PredictionLog?, logger: Logger) {
        self.configuration = configuration
        self.itemTables = itemTables
        self.predictionLog = predictionLog
        self.metrics = metrics
        self.backend = backend
        self.lifecycle = lifecycle
        self.healthWatchers = healthWatchers
        self.logger = logger
    }

    // MARK: - Lifecycle

    /// The served endpoints now (a snapshot: a load or unload after this call does not change it).
    var endpoints: [String: ModelEndpoint] { lifecycle.endpoints }

    /// Every loaded version of every model now (several per model under a traffic split or a shadow).
    var allEndpoints: [ModelEndpoint] { lifecycle.allEndpoints }

    /// Names of the served models, sorted.
    public var modelNames: [String] { endpoints.keys.sorted() }

    /// Whether `model` takes raw rows on the CTR API (it has a features.json), rather than only v2 tensors.
    public func takesRawRows(_ model: String) -> Bool {
        endpoints[model]?.decoder != nil
    }

    /// Inference threads across every model's pool (the event loops take the cores they leave).
    public var inferenceThreads: Int { allEndpoints.reduce(0) { $0 + $1.pool.configuration.threadCount } }

    /// Runs warm-up batches through every session, then reports ready.
    ///
    /// Called from a plain thread (``run()`` starts one): ONNX Runtime blocks, and must not hold a thread
    /// of Swift's cooperative pool, which the front ends' async work needs.
    public func warmUp() throws(ServingError) {
        guard !isReady.load(ordering: .acquiring) else { return }
        let endpoints = allEndpoints
        for endpoint in endpoints { try endpoint.warmUp() }
        lifecycle.markReady()
        isReady.store(true, ordering: .releasing)
        readiness.markReady()
        healthWatchers.notify()
    }

    /// Waits until warm-up finished (for front ends that bind only once the models are warm).
    public func waitUntilWarm() async { await readiness.wait() }

    /// Whether warm-up finished and the server is not draining.
    public var ready: Bool { isReady.load(ordering: .acquiring) && !isDraining.load(ordering: .acquiring) }

    /// Whether draining began (readiness false, new inference refused).
    public var draining: Bool { isDraining.load(ordering: .acquiring) }

    /// Marks the server as draining: readiness turns false on every protocol and new inference is refused.
    public func beginDraining() {
        isDraining.store(true, ordering: .releasing)
        healthWatchers.notify()
    }

    /// Waits until no request is between "received" and "answered", at most `timeoutSeconds`.
    public func waitForInFlight(timeoutSeconds: Double = 30) async {
        await inFlight.waitUntilIdle(timeoutSeconds: timeoutSeconds)
    }

    /// Finishes every queued job and stops the inference threads; loads after this are refused.
    ///
    /// Waits for a load in progress to finish first, so no pool it starts outlives the server.
    public func shutdownPools() {
        lifecycle.stop()
    }

    /// Warms up on a dedicated thread, serves (polling the repository every `--repository-poll-secs`)
    /// until graceful shutdown, then stops the pools.
    ///
    /// The service group signals its services in reverse order, so by the time this one is told to stop,
    /// the front ends listed after it have finished their in-flight calls.
    public func run() async throws {
        try await warmUpOffPool()
        let pollSeconds = configuration.repositoryPollSeconds
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.readiness.waitForStop() }
                if pollSeconds > 0 {
                    group.addTask {
                        while (try? await Task.sleep(for: .seconds(pollSeconds))) != nil {
                            await Self.offPool(name: "clickwise-poll") { self.pollRepository() }
                        }
                    }
                }
                let tableSeconds = configuration.itemTablePollSeconds
                if !itemTables.isEmpty, tableSeconds > 0 {
                    group.addTask {
                        while (try? await Task.sleep(for: .seconds(tableSeconds))) != nil {
                            await Self.offPool(name: "clickwise-items") { self.itemTables.poll(self.allEndpoints, logger: self.logger) }
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.beginDraining()
            self.readiness.markStopped()
        }
        beginDraining()
        await waitForInFlight()
        await Self.offPool(name: "clickwise-stop") {
            self.shutdownPools()
            // After the pools: every answered request's records are queued by now.
            self.predictionLog?.stop()
        }
    }

    /// ``warmUp()`` on a new thread, awaited without blocking the caller's executor.
    public func warmUpOffPool() async throws(ServingError) {
        let result: Result<Void, ServingError> = await Self.offPool(name: "clickwise-warmup") {
            do throws(ServingError) {
                try self.warmUp()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Runs `body` on a new plain thread (ONNX Runtime blocks, which Swift's cooperative pool must not)
    /// and awaits its result without blocking the caller's executor.
    static func offPool<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            startThread(name: name) { continuation.resume(returning: body()) }
        }
    }

    /// Starts a plain thread with a stack large enough for ONNX Runtime's session creation.
    static func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    // MARK: - Requests

    /// A request was received by a front end (pair with ``requestFinished(route:status:startedAt:)``).
    func requestStarted() {
        inFlight.enter()
    }

    /// A request was answered with `status` (its HTTP status, or the HTTP equivalent of a gRPC code).
    func requestFinished(route: Int, status: Int, startedAt: UInt64) {
        metrics.requestFinished(route: route, status: status, seconds: MonotonicClock.seconds(from: startedAt, to: MonotonicClock.nanoseconds()))
        inFlight.leave()
    }

    /// Requests between "received" and "answered" right now, on every front end.
    package var inFlightRequests: Int { inFlight.count }

    /// The `/metrics` page: the gauges read from the state that owns them, then every series.
    public func renderMetrics() -> [UInt8] {
        for endpoint in allEndpoints { endpoint.pool.statistics.metrics?.setPending(endpoint.pool.queueDepth) }
        return metrics.render(inFlightRequests: inFlight.count)
    }

    /// The served model `model` at `version` (nil = the served one), for answers that read only its
    /// metadata; inference takes a lease with ``leaseEndpoint(_:_:)``.
    func endpoint(_ model: String, _ version: String?) -> Result<ModelEndpoint, ServerError> {
        if let endpoint = lifecycle.lookUp(model, version) { return .success(endpoint) }
        return .failure(notServed(model, version))
    }

    /// The version of `model` that answers this CTR API request (its traffic policy, sticky on the user field's
    /// value in `body`) with a lease taken, and the shadow version leased too when there is one: the caller
    /// releases both once their jobs are queued or refused. `split`: the model shares its traffic between versions
    /// (the answer then names its version).
    func leaseRoute(_ model: String, body: UnsafeRawBufferPointer) -> Result<(answer: ModelEndpoint, shadow: ModelEndpoint?, split: Bool), ServerError> {
        while true {
            guard let served = lifecycle.snapshot.models[model] else { return .failure(notServed(model, nil)) }
            let key = served.traffic == nil ? nil : served.stickyField.flatMap { TrafficPolicy.stickyKey(in: body, field: $0) }
            let endpoint = served.route(key: key)
            // A retired endpoint has already left the table: the next lookup finds its successor.
            guard endpoint.acquire() else { continue }
            let shadow = served.shadow.flatMap { $0 !== endpoint && $0.acquire() ? $0 : nil }
            return .success((endpoint, shadow, served.traffic != nil))
        }
    }

    /// The served model `model` at `version` with a lease taken for one inference: the caller calls
    /// `release()` on it once the job is queued or refused, so a swap drains it instead of losing it.
    ///
    /// Without a version, a model under a traffic split answers from a version drawn by its weights (v2 requests
    /// name no user field, so they are not sticky; the CTR API's ``leaseRoute(_:body:)`` is).
    func leaseEndpoint(_ model: String, _ version: String?) -> Result<ModelEndpoint, ServerError> {
        while true {
            let found: Result<ModelEndpoint, ServerError>
            if version == nil, let served = lifecycle.snapshot.models[model] {
                found = .success(served.route(key: nil))
            } else {
                found = endpoint(model, version)
            }
            switch found {
            case .success(let endpoint):
                // A retired endpoint has already left the table: the next lookup finds its successor.
                if endpoint.acquire() { return .success(endpoint) }
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    /// Whether `model` (at `version`, nil = the served one) is ready for inference; an error for a model or
    /// version the repository does not hold.
    func modelReady(_ model: String, _ version: String?) -> Result<Bool, ServerError> {
        if lifecycle.lookUp(model, version) != nil { return .success(ready) }
        guard lifecycle.knows(model, version) else { return .failure(notServed(model, version)) }
        return .success(false)
    }

    /// The monotonic deadline for a request (0 = none) from the transport's timeout and the v2 `timeout`
    /// parameter (microseconds, Triton's unit); the earlier one wins.
    static func deadline(transportTimeoutNanoseconds: UInt64?, parameters: [String: InferParameter] = [:]) -> Result<UInt64, ServerError> {
        var timeout = transportTimeoutNanoseconds
        if let parameter = parameters["timeout"] {
            guard let microseconds = parameter.int64Value, microseconds > 0 else {
                return .failure(ServerError(.invalidArgument, "parameter \"timeout\" must be a positive number of microseconds, got \(parameter)"))
            }
            timeout = min(timeout ?? .max, UInt64(microseconds) &* 1_000)
        }
        if let priority = parameters["priority"] {
            // Accepted as Triton does (0 = the model's default); one queue per model, so every level runs in order.
            guard let level = priority.int64Value ?? (priority.boolValue == nil ? nil : 0), level >= 0 else {
                return .failure(ServerError(.invalidArgument, "parameter \"priority\" must be a non-negative integer, got \(priority)"))
            }
        }
        guard let timeout else { return .success(0) }
        return .success(MonotonicClock.nanoseconds() &+ timeout)
    }

    // MARK: - CTR API

    /// Decodes raw CTR API rows, encodes them with the bundle's vocabulary and queues them.
    ///
    /// Returns the predictions at once when there are no rows; otherwise nil, and `completion` runs later
    /// on an inference thread with the predictions (valid only during the call).
    func predict(_ endpoint: ModelEndpoint, body: UnsafeRawBufferPointer, scratch: inout DecodedInstances,
                 transportTimeoutNanoseconds: UInt64?, requestID: String? = nil, shadow: Bool = false,
                 completion: @escaping @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void) -> Result<Bool, ServerError> {
        guard ready else { return .failure(notReady(endpoint)) }
        guard let encoding = endpoint.pool.encoding, let decoder = endpoint.decoder else {
            return .failure(ServerError(.notFound,
                "model \"\(endpoint.name)\" has no features.json, so it takes tensors, not raw rows: send them to POST /v2/models/\(endpoint.name)/infer (GET /v2/models/\(endpoint.name) lists its inputs)"))
        }
        do throws(RequestDecodeError) {
            try decoder.decode(body, into: &scratch)
        } catch {
            return .failure(ServerError(error))
        }
        let rows = scratch.count
        guard rows > 0 else { return .success(false) }
        let logged = logging(endpoint, requestID: requestID, shadow: shadow) { PredictionRecords(requestID: $0, model: endpoint.name, version: endpoint.bundle.version,
                                                                                 layout: $1, rows: scratch) }
        if let error = submitRows(endpoint, encoding: encoding, rows: rows, transportTimeoutNanoseconds: transportTimeoutNanoseconds,
                                  fill: { Self.encode(scratch, with: encoding.encoder, into: $0) }, completion: logged.map { $0(completion) } ?? completion) {
            return .failure(error)
        }
        return .success(true)
    }

    /// Decodes a ranking request (a context and candidates), encodes the context once and each candidate's own
    /// fields, and queues the candidates as one job.
    ///
    /// A field a candidate leaves out (or sends as null) takes the context's value; the scores come back in
    /// candidate order and equal `:predict` on the merged rows. Returns the options and whether a job was queued
    /// (no candidates: nothing to run); `completion` then runs later, on an inference thread.
    func rank(_ endpoint: ModelEndpoint, body: UnsafeRawBufferPointer, candidates: inout DecodedInstances, context: inout DecodedInstances,
              transportTimeoutNanoseconds: UInt64?, requestID: String? = nil, shadow: Bool = false,
              completion: @escaping @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>, PredictRequestDecoder.RankOptions) -> Void)
        -> Result<(queued: Bool, options: PredictRequestDecoder.RankOptions), ServerError> {
        guard ready else { return .failure(notReady(endpoint)) }
        guard let encoding = endpoint.pool.encoding, let decoder = endpoint.decoder else {
            return .failure(ServerError(.notFound,
                "model \"\(endpoint.name)\" has no features.json, so it takes tensors, not raw rows: send them to POST /v2/models/\(endpoint.name)/infer"))
        }
        let options: PredictRequestDecoder.RankOptions
        do throws(RequestDecodeError) {
            options = try decoder.decodeRank(body, candidates: &candidates, context: &context)
        } catch {
            return .failure(ServerError(error))
        }
        let rows = candidates.count
        guard rows > 0 else { return .success((false, options)) }
        let items = endpoint.items
        var unknown = 0
        // A candidate's own fields first, then its item's from the table, then the context's.
        let fill: (FeatureEncodingStage.Rows) -> Void = { out in
            Self.encode(candidates, with: encoding.encoder, into: out)
            if context.count == 1 { Self.fillFromContext(context, candidates: candidates, encoder: encoding.encoder, into: out) }
            if let items { unknown = Self.fillFromItems(items, candidates: candidates, encoder: encoding.encoder, into: out) }
        }
        defer { if unknown > 0 { endpoint.pool.statistics.metrics?.itemTableMissed(unknown) } }
        // The ranking graph computes the context once, so it runs only when every candidate leaves the context
        // fields to the context (and the item table fills none of them); otherwise the flat graph gives each
        // candidate its own.
        var ranking: (RankingLayout, ModelPool)?
        if let pool = endpoint.rankingPool, let layout = pool.ranking, !(items.map(layout.overlaps) ?? false),
           layout.takes(candidates: rows, given: { candidate, part, field in
               switch part {
               case 0: !candidates.isCategoricalMissing(row: candidate, field: field)
               case 1: !candidates.isNumericMissing(row: candidate, field: field)
               default: !candidates.isSequenceMissing(row: candidate, field: field)
               }
           }) {
            ranking = (layout, pool)
        }
        let logged = logging(endpoint, requestID: requestID, shadow: shadow) { [context] in
            PredictionRecords(requestID: $0, model: endpoint.name, version: endpoint.bundle.version, layout: $1,
                              rows: candidates, context: context, items: items)
        }
        let answer: @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void = { completion($0, options) }
        if let error = submitRows(endpoint, encoding: encoding, ranking: ranking, rows: rows, transportTimeoutNanoseconds: transportTimeoutNanoseconds,
                                  fill: fill, completion: logged.map { $0(answer) } ?? answer) {
            return .failure(error)
        }
        return .success((true, options))
    }

    /// When `requestID` is given (the front end sampled the request for the prediction log): a wrapper for the request's completion
    /// that logs its lines (built now by `records`, from rows that are reused once the request is queued) with the
    /// predictions before answering.
    ///
    /// A shadow version's lines go to the model's `shadow/` subdirectory: beside the answered ones for the online
    /// comparison, apart from them for `data join` (the client saw only the answer).
    private func logging(_ endpoint: ModelEndpoint, requestID: String?, shadow: Bool, _ records: (String, PredictionRecords.Layout) -> PredictionRecords)
        -> ((@escaping @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void)
            -> @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void)? {
        guard let requestID, let log = predictionLog, let layout = endpoint.predictionLogLayout else { return nil }
        let lines = records(requestID, layout)
        let header = layout.header
        let model = shadow ? endpoint.name + "/" + PredictionLog.shadowDirectory : endpoint.name
        return { completion in
            { outcome in
                if case .success(let predictions) = outcome {
                    log.append(model: model, header: header, lines: lines.lines(predictions: predictions), records: lines.count)
                }
                completion(outcome)
            }
        }
    }

    /// Queues `rows` rows that `fill` encodes for `endpoint`'s pool, as one job whose outcome is counted in the
    /// model's statistics; `completion` gets the probabilities (valid only during the call). The error, if refused.
    private func submitRows(_ endpoint: ModelEndpoint, encoding: FeatureEncodingStage, ranking: (RankingLayout, ModelPool)? = nil,
                            rows: Int, transportTimeoutNanoseconds: UInt64?,
                            fill: (FeatureEncodingStage.Rows) -> Void,
                            completion: @escaping @Sendable (Result<UnsafeBufferPointer<Float>, ServerError>) -> Void) -> ServerError? {
        let deadline: UInt64
        switch Self.deadline(transportTimeoutNanoseconds: transportTimeoutNanoseconds) {
        case .success(let value): deadline = value
        case .failure(let error): return error
        }
        let record = Self.recorder(endpoint.pool.statistics)
        let handle: @Sendable (InferenceJob.Outcome) -> Void = { outcome in
            switch outcome {
            case .success(let outputs):
                record(true)
                completion(.success(outputs[0].floats))
            case .failure(let error):
                record(false)
                completion(.failure(ServerError(error)))
            }
        }
        let job: InferenceJob
        if let (layout, _) = ranking {
            job = layout.makeJob(candidates: rows, deadline: deadline, completion: handle)
            layout.encode(into: job, fill)
        } else {
            job = encoding.makeJob(rows: rows, deadline: deadline, completion: handle)
            encoding.encode(into: job, fill)
        }
        do {
            try (ranking?.1 ?? endpoint.pool).submit(job)
        } catch {
            return ServerError(error)
        }
        return nil
    }

    /// Encodes the context's one row once and copies its encoded values into every candidate field left missing.
    package static func fillFromContext(_ context: DecodedInstances, candidates: DecodedInstances, encoder: FeatureEncoder,
                                into out: FeatureEncodingStage.Rows) {
        let categorical = encoder.categoricalCount, numeric = encoder.numericCount, sequence = encoder.sequenceWidth
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, categorical + sequence)) { integers in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, numeric)) { floats in
                let row = FeatureEncodingStage.Rows(ids: UnsafeMutableBufferPointer(rebasing: integers[0..<categorical]),
                                                    dense: UnsafeMutableBufferPointer(rebasing: floats[0..<numeric]),
                                                    sequences: UnsafeMutableBufferPointer(rebasing: integers[categorical..<(categorical + sequence)]))
                encode(context, with: encoder, into: row)
                let given = (categorical: (0..<categorical).filter { !context.isCategoricalMissing(row: 0, field: $0) },
                             numeric: (0..<numeric).filter { !context.isNumericMissing(row: 0, field: $0) },
                             sequences: encoder.sequenceLengths.indices.filter { !context.isSequenceMissing(row: 0, field: $0) })
                for candidate in 0..<candidates.count {
                    for field in given.categorical where candidates.isCategoricalMissing(row: candidate, field: field) {
                        out.ids[candidate * categorical + field] = row.ids[field]
                    }
                    for field in given.numeric where candidates.isNumericMissing(row: candidate, field: field) {
                        out.dense[candidate * numeric + field] = row.dense[field]
                    }
                    for field in given.sequences where candidates.isSequenceMissing(row: candidate, field: field) {
                        let start = encoder.sequenceStarts[field]
                        for column in start..<(start + encoder.sequenceLengths[field]) {
                            out.sequences[candidate * sequence + column] = row.sequences[column]
                        }
                    }
                }
            }
        }
    }

    /// Copies each candidate's item fields from `table` into those the candidate left missing; returns how many
    /// candidates named an id the table lacks (their item fields keep the missing values).
    package static func fillFromItems(_ table: ItemTable, candidates: DecodedInstances, encoder: FeatureEncoder,
                              into out: FeatureEncodingStage.Rows) -> Int {
        let categorical = encoder.categoricalCount, numeric = encoder.numericCount, sequence = encoder.sequenceWidth
        let idWidth = table.categoricalFields.count, denseWidth = table.numericFields.count
        var unknown = 0
        table.ids.withUnsafeBufferPointer { ids in
            table.dense.withUnsafeBufferPointer { dense in
                table.sequenceIDs.withUnsafeBufferPointer { sequences in
                    for candidate in 0..<candidates.count {
                        let found: Int?? = candidates.withCategoricalBytes(row: candidate, field: table.keyField) { key in
                            key.map { table.row(key: $0) }
                        }
                        guard let named = found else { continue }
                        guard let item = named else {
                            unknown += 1
                            continue
                        }
                        for (column, field) in table.categoricalFields.enumerated() where candidates.isCategoricalMissing(row: candidate, field: field) {
                            out.ids[candidate * categorical + field] = ids[item * idWidth + column]
                        }
                        for (column, field) in table.numericFields.enumerated() where candidates.isNumericMissing(row: candidate, field: field) {
                            out.dense[candidate * numeric + field] = dense[item * denseWidth + column]
                        }
                        var source = item * table.sequenceWidth
                        for field in table.sequenceFields {
                            let length = encoder.sequenceLengths[field]
                            if candidates.isSequenceMissing(row: candidate, field: field) {
                                let start = candidate * sequence + encoder.sequenceStarts[field]
                                for offset in 0..<length { out.sequences[start + offset] = sequences[source + offset] }
                            }
                            source += length
                        }
                    }
                }
            }
        }
        return unknown
    }

    /// Raw features to model inputs, with the bundle's own vocabulary.
    package static func encode(_ instances: DecodedInstances, with encoder: FeatureEncoder, into rows: FeatureEncodingStage.Rows) {
        let denseWidth = instances.numericWidth
        if denseWidth > 0, let dense = rows.dense.baseAddress {
            instances.withUnsafeDenseValues { values in
                var field = 0
                for index in 0..<(instances.count * denseWidth) {
                    let value = values[index]
                    dense[index] = encoder.denseValue(field: field, raw: value.isNaN ? nil : value)
                    field += 1
                    if field == denseWidth { field = 0 }
                }
            }
        }
        if let ids = rows.ids.baseAddress {
            instances.forEachCategorical { index, field, bytes in
                ids[index] = encoder.categoricalID(field: field, utf8: bytes)
            }
        }
        let width = encoder.sequenceWidth
        guard width > 0, let sequences = rows.sequences.baseAddress else { return }
        instances.forEachSequence { row, field, value in
            let out = sequences + row * width + encoder.sequenceStarts[field]
            switch value {
            case .missing: encoder.encodeSequence(field: field, utf8: nil, into: out)
            case .joined(let bytes): encoder.encodeSequence(field: field, utf8: bytes, into: out)
            case .tokens(let count, let token):
                encoder.encodeSequence(field: field, tokenCount: count, into: out) { body in
                    for i in 0..<count { body(token(i)) }
                }
            }
        }
    }

    /// Counts a request that starts now in `statistics` once it is answered (call with whether it succeeded).
    private static func recorder(_ statistics: ModelStatistics) -> @Sendable (Bool) -> Void {
        let started = MonotonicClock.nanoseconds()
        return { succeeded in
            let unixMilliseconds = UInt64(Date().timeIntervalSince1970 * 1_000)
            statistics.requestFinished(nanoseconds: MonotonicClock.nanoseconds() &- started, succeeded: succeeded, unixMilliseconds: unixMilliseconds)
        }
    }

    // MARK: - KServe v2

    /// Checks a decoded v2 request against the model, copies it into a job and queues it.
    ///
    /// `bytes` is what `.binary` tensor data refers to (the HTTP body, or gRPC's raw inputs joined); it
    /// is read before this returns. `completion` runs once on an inference thread, the outputs valid
    /// only during the call. Every check runs before queueing: a bad request never reaches a batch.
    func infer(_ endpoint: ModelEndpoint, request: InferRequest, bytes: UnsafeRawBufferPointer, transportTimeoutNanoseconds: UInt64?,
               completion: @escaping @Sendable (Result<InferResult, ServerError>) -> Void) -> ServerError? {
        guard ready else { return notReady(endpoint) }
        let outputs: [(name: String, binary: Bool)]
        do throws(RequestDecodeError) {
            outputs = try request.selectOutputs(modelOutputs: endpoint.servedOutputs)
        } catch {
            return ServerError(error)
        }
        // A bundle with a ranking graph also takes its inputs: one request's context (`context_*`, first dimension 1)
        // and its candidates; the pool adds `request_index`.
        let ranking = endpoint.rankingValidator.flatMap { validator in
            endpoint.rankingPool.flatMap { pool in
                request.inputs.contains { $0.name.hasPrefix(RankingLayout.contextPrefix) } ? (validator, pool) : nil
            }
        }
        let validator = ranking?.0 ?? endpoint.validator, pool = ranking?.1 ?? endpoint.pool
        let checked: (rows: Int, inputs: [InferInputTensor])
        switch validator.check(request) {
        case .success(let value): checked = value
        case .failure(let error): return ServerError(error)
        }
        let deadline: UInt64
        switch Self.deadline(transportTimeoutNanoseconds: transportTimeoutNanoseconds, parameters: request.parameters) {
        case .success(let value): deadline = value
        case .failure(let error): return error
        }
        let modelName = endpoint.name, version = endpoint.bundle.version, id = request.id, record = Self.recorder(pool.statistics)
        let job = InferenceJob(rows: checked.rows, shapes: checked.inputs.map(\.shape),
                               elementSizes: pool.requestInputs.map { $0.elementType.byteSize ?? 1 }, deadline: deadline) { outcome in
            switch outcome {
            case .success(let tensors):
                record(true)
                let selected = outputs.compactMap { output -> InferResult.Output? in
                    guard let tensor = tensors.first(where: { $0.name == output.name }) else { return nil }
                    return InferResult.Output(name: tensor.name, datatype: tensor.elementType,
                                              shape: tensor.shape.map { Int($0) },
                                              bytes: tensor.bytes, binary: output.binary)
                }
                completion(.success(InferResult(modelName: modelName, modelVersion: version, id: id, outputs: selected)))
            case .failure(let error):
                record(false)
                completion(.failure(ServerError(error)))
            }
        }
        if let failure = validator.fill(job, from: checked.inputs, bytes: bytes) {
            return ServerError(failure)
        }
        do {
            try pool.submit(job)
        } catch {
            return ServerError(error)
        }
        return nil
    }

    // MARK: - Statistics

    /// Statistics of `model` (nil = every served model), Triton's statistics extension: one entry per
    /// served version, counted from the moment that version was loaded.
    func statistics(model: String?, version: String?) -> Result<[(name: String, version: String, snapshot: ModelStatistics.Snapshot)], ServerError> {
        guard let model else {
            return .success(allEndpoints.map { ($0.name, $0.bundle.version, $0.pool.statistics.snapshot) })
        }
        return endpoint(model, version).map { [($0.name, $0.bundle.version, $0.pool.statistics.snapshot)] }
    }

    private func notReady(_ endpoint: ModelEndpoint) -> ServerError {
        ServerError(.unavailable, "model \"\(endpoint.name)\" is not ready (\(draining ? "shutting down" : "warming up"))")
    }
}

/// A finished v2 inference, handed to the front end that encodes it; the outputs' bytes are valid only
/// during the completion call (they are the inference thread's output buffers).
struct InferResult {
    /// One output the request asked for: its little-endian elements, and whether it goes as binary (HTTP's choice).
    struct Output {
        let name: String
        let datatype: TensorElementType
        let shape: [Int]
        let bytes: UnsafeRawBufferPointer
        let binary: Bool
    }

    let modelName: String
    let modelVersion: String
    let id: String?
    /// The outputs the request asked for, in order.
    let outputs: [Output]
}

/// Counts requests in progress; draining waits for zero on a continuation instead of polling.
final class InFlightRequests: Sendable {
    private struct State {
        var count = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    func enter() { state.withLock { $0.count += 1 } }

    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var count: Int { state.withLock { $0.count } }

    /// Returns when the count is zero, or after `timeoutSeconds` (a stuck client must not block shutdown).
    func waitUntilIdle(timeoutSeconds: Double) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> Int? in
                if state.count == 0 { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let id else { return continuation.resume() }
            Task {
                try? await Task.sleep(for: .seconds(timeoutSeconds))
                // Whoever removes the continuation resumes it: `leave` or this timeout, never both.
                self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }
}

/// Callbacks to run when readiness may have changed: the gRPC health watches re-check then, instead of
/// polling. A callback must not block (the watches hop to their connection's event loop).
final class HealthWatchers: Sendable {
    private struct State {
        var next = 0
        var callbacks: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    /// Registers `callback`; the id removes it.
    func add(_ callback: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            state.next += 1
            state.callbacks[state.next] = callback
            return state.next
        }
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.callbacks.removeValue(forKey: id) }
    }

    /// Runs every callback (outside the lock).
    func notify() {
        let callbacks = state.withLock { Array($0.callbacks.values) }
        for callback in callbacks { callback() }
    }
}

/// Warm-up and stop, as one-shot events that async code can wait for.
final class Readiness: Sendable {
    private let warm = OneShotEvent()
    private let stopped = OneShotEvent()

    func markReady() { warm.signal() }
    func markStopped() { stopped.signal() }
    func wait() async { await warm.wait() }
    func waitForStop() async { await stopped.wait() }
}

/// Something that happens once; waiting after it happened returns at once.
final class OneShotEvent: Sendable {
    private struct State {
        var happened = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.happened = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let happened = state.withLock { state -> Bool in
                if state.happened { return true }
                state.waiters.append(continuation)
                return false
            }
            if happened { continuation.resume() }
        }
    }
}
