// What the metrics cost one request, before (hand-written, 2117833) and after (swift-prometheus), in one run.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target MetricsBenchmarks
import Benchmark
import CTRServing

/// The recording calls the two implementations share, so both benchmarks run the same sequence.
protocol MetricsRecorder {
    func runningChanged(by delta: Int)
    func batchRan(rows: Int, runSeconds: Double, queueWaits: some Sequence<Double>, failed: Bool)
    func requestFinished(route: Int, status: Int, seconds: Double)
}

extension HandWrittenMetrics: MetricsRecorder {}
extension ServingMetrics: MetricsRecorder {}

/// Everything one single-row request records, in the order the server records it: the batch on the inference
/// thread (global series and the model's statistics), then the answer (the model's outcome, the route's status
/// and latency). InferenceCore's in-flight count is the same before and after, so it is left out of both.
@inline(__always)
func recordOneRequest<Metrics: MetricsRecorder>(_ metrics: Metrics, _ statistics: ModelStatistics, _ i: Int) {
    metrics.runningChanged(by: 1)
    metrics.runningChanged(by: -1)
    metrics.batchRan(rows: 1, runSeconds: 0.000_04, queueWaits: CollectionOfOne(0.000_01), failed: false)
    statistics.batchRan(rows: 1, requests: 1, queueNanoseconds: 10_000, inputNanoseconds: 0, runNanoseconds: 40_000, outputNanoseconds: 300)
    statistics.requestFinished(nanoseconds: 60_000 + UInt64(i & 1023), succeeded: true, unixMilliseconds: 1)
    metrics.requestFinished(route: 3, status: 200, seconds: 0.000_06)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.instructions, .mallocCountTotal, .wallClock, .cpuTotal],
        warmupIterations: 1_000,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )
    let routes: [(protocol: String, route: String)] = (0..<20).map { ("http", "route\($0)") }

    Benchmark("metrics per request: hand-written (before)") { benchmark in
        let metrics = HandWrittenMetrics(routes: routes.count, latencySeconds: ServingMetrics.latencySeconds, batchRows: ServingMetrics.batchRows)
        let statistics = ModelStatistics()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            metrics.requestStarted()  // the second in-flight count, gone after
            recordOneRequest(metrics, statistics, i)
        }
    }

    Benchmark("metrics per request: swift-prometheus (after)") { benchmark in
        let metrics = ServingMetrics(routes: routes)
        let statistics = ModelStatistics(metrics: metrics.model(name: "deepfm", version: "1"))
        metrics.requestFinished(route: 3, status: 200, seconds: 0.000_06)  // the route's series exist after its first answer
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            recordOneRequest(metrics, statistics, i)
        }
    }

    Benchmark("/metrics page render (1 model, 2 routes answered)") { benchmark in
        let metrics = ServingMetrics(routes: routes)
        let statistics = ModelStatistics(metrics: metrics.model(name: "deepfm", version: "1"))
        metrics.requestFinished(route: 3, status: 200, seconds: 0.000_06)
        metrics.requestFinished(route: 4, status: 400, seconds: 0.000_06)
        statistics.requestFinished(nanoseconds: 60_000, succeeded: true, unixMilliseconds: 1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(metrics.render(inFlightRequests: 1)) }
    }
}
