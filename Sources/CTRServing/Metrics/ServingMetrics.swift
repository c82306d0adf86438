import Prometheus
import Synchronization

/// Everything `/metrics` reports, recorded from event loops and inference threads alike, in one
/// swift-prometheus registry.
///
/// Every series is a swift-prometheus `Counter`, `Gauge` or `ValueHistogram` made once (a request's route
/// and status series on their first use) and then updated without a name lookup: a counter is one relaxed
/// atomic add, a histogram one short lock of its own, so an inference thread recording a batch never waits
/// for an event loop recording a request. The process's swift-metrics `MetricsSystem` can be bootstrapped
/// with ``factory`` so libraries that emit through swift-metrics land on the same page. Names keep the
/// `clickwise_` prefix; per-model series use Triton's `nv_inference_*` names (``ModelMetrics``).
public final class ServingMetrics: Sendable {
    /// HTTP status codes counted individually; anything else is counted as "other".
    public static let statusCodes: [Int] = [200, 400, 404, 405, 408, 413, 415, 422, 500, 503, 504]

    /// Latency buckets from 50 µs to 10 s, in seconds.
    public static let latencySeconds: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]

    /// Batch-size buckets in rows.
    public static let batchRows: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// Each route's labels: the front end that served it (`http`, `grpc`) and its name.
    public let routes: [(protocol: String, route: String)]

    /// A route's series, made when the route is first answered so unused routes print nothing.
    private struct RouteSeries {
        var byStatus: [Counter?]
        var duration: ValueHistogram?
    }
    private let routeSeries: Mutex<[RouteSeries]>

    private let rows: Counter
    private let runs: Counter
    private let failedRuns: Counter
    private let rejected: Counter
    private let expired: Counter
    private let queueWait: ValueHistogram
    private let runTime: ValueHistogram
    private let batchRowsHistogram: ValueHistogram
    private let inFlightGauge: Gauge
    private let runningGauge: Gauge
    // The one count of runs in progress (tests wait on it); the gauge copies it when scraped.
    private let running = Atomic<Int>(0)

    /// Creates metrics for the given routes (indices are used when recording), in a registry of their own.
    public init(routes: [(protocol: String, route: String)], registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.routes = routes
        routeSeries = Mutex(routes.map { _ in RouteSeries(byStatus: Array(repeating: nil, count: Self.statusCodes.count + 1)) })
        rows = registry.makeCounter(descriptor: .init("clickwise_rows_total", help: "Rows predicted."))
        runs = registry.makeCounter(descriptor: .init("clickwise_ort_runs_total", help: "ONNX Runtime runs."))
        failedRuns = registry.makeCounter(descriptor: .init("clickwise_ort_run_failures_total", help: "ONNX Runtime runs that failed."))
        rejected = registry.makeCounter(descriptor: .init("clickwise_queue_rejected_total", help: "Requests refused because the queue was full."))
        expired = registry.makeCounter(descriptor: .init("clickwise_queue_expired_total", help: "Requests whose deadline passed in the queue."))
        queueWait = registry.makeValueHistogram(descriptor: .init("clickwise_queue_wait_seconds", help: "Time a request waited for a session (and for its batch to form)."), buckets: Self.latencySeconds)
        runTime = registry.makeValueHistogram(descriptor: .init("clickwise_ort_run_seconds", help: "Time inside ONNX Runtime's Run per batch."), buckets: Self.latencySeconds)
        batchRowsHistogram = registry.makeValueHistogram(descriptor: .init("clickwise_batch_rows", help: "Rows per ONNX Runtime run."), buckets: Self.batchRows)
        inFlightGauge = registry.makeGauge(descriptor: .init("clickwise_inflight_requests", help: "Requests being handled."))
        runningGauge = registry.makeGauge(descriptor: .init("clickwise_running_batches", help: "ONNX Runtime runs in progress."))
    }

    /// A swift-metrics factory over this registry, for `MetricsSystem.bootstrap`.
    public var factory: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: registry) }

    /// The Triton-named series of one served model version.
    public func model(name: String, version: String) -> ModelMetrics {
        ModelMetrics(registry: registry, model: name, version: version)
    }

    /// A request finished with `status` after `seconds`.
    public func requestFinished(route: Int, status: Int, seconds: Double) {
        let statusIndex = Self.statusCodes.firstIndex(of: status) ?? Self.statusCodes.count
        let (counter, duration) = routeSeries.withLock { all -> (Counter, ValueHistogram) in
            if all[route].byStatus[statusIndex] == nil {
                let label = statusIndex < Self.statusCodes.count ? String(Self.statusCodes[statusIndex]) : "other"
                all[route].byStatus[statusIndex] = registry.makeCounter(
                    descriptor: .init("clickwise_requests_total",
                                      help: "Requests by protocol, route and status (gRPC calls count under the HTTP status of their outcome)."),
                    labels: labels(route) + [("status", label)])
            }
            if all[route].duration == nil {
                all[route].duration = registry.makeValueHistogram(
                    descriptor: .init("clickwise_request_duration_seconds", help: "Time from a complete request to its response."),
                    labels: labels(route), buckets: Self.latencySeconds)
            }
            return (all[route].byStatus[statusIndex]!, all[route].duration!)
        }
        counter.increment()
        duration.record(seconds)
    }

    private func labels(_ route: Int) -> [(String, String)] {
        [("protocol", routes[route].protocol), ("route", routes[route].route)]
    }

    /// An inference thread started (+1) or finished (-1) a run.
    public func runningChanged(by delta: Int) { running.add(delta, ordering: .relaxed) }

    /// ONNX Runtime runs in progress right now.
    public var runningBatches: Int { running.load(ordering: .relaxed) }

    /// One ONNX Runtime run of `rows` rows that took `runSeconds`, for jobs that waited `queueWaits` seconds.
    public func batchRan(rows: Int, runSeconds: Double, queueWaits: some Sequence<Double>, failed: Bool) {
        runs.increment()
        if failed { failedRuns.increment() } else { self.rows.increment(by: Int64(rows)) }
        runTime.record(runSeconds)
        batchRowsHistogram.record(Double(rows))
        for wait in queueWaits { queueWait.record(wait) }
    }

    /// A request was turned away because the queue was full.
    public func queueRejected() { rejected.increment() }

    /// A request's deadline passed in the queue.
    public func deadlineExpired(queueWait wait: Double) {
        expired.increment()
        queueWait.record(wait)
    }

    /// The Prometheus text exposition (format 0.0.4); `inFlightRequests` comes from whoever counts them.
    public func render(inFlightRequests: Int) -> [UInt8] {
        inFlightGauge.set(Int64(inFlightRequests))
        runningGauge.set(Int64(runningBatches))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 << 10)
        registry.emit(into: &bytes)
        return bytes
    }
}

extension MetricNameDescriptor {
    /// A descriptor for a full metric name (no namespace or unit parts to join) and its help text.
    init(_ name: String, help: String) {
        self.init(metricName: name, unitName: "", helpText: help)
    }
}
