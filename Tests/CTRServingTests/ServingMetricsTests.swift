import ClickwiseTestSupport
import Foundation
@testable import CTRServing
import Metrics
import Testing

@Suite("ServingMetrics renders Prometheus text")
struct ServingMetricsTests {
    static let routes: [(protocol: String, route: String)] = [("http", "predict"), ("grpc", "v2_infer"), ("http", "metrics")]

    static func parse(_ metrics: ServingMetrics, inFlight: Int = 0) throws -> PrometheusText {
        try PrometheusText(String(decoding: metrics.render(inFlightRequests: inFlight), as: UTF8.self))
    }

    @Test("requests by protocol, route and status; only answered routes print; histograms are consistent")
    func requests() throws {
        let metrics = ServingMetrics(routes: Self.routes)
        for seconds in [0.0002, 0.003, 0.0004] { metrics.requestFinished(route: 0, status: 200, seconds: seconds) }
        metrics.requestFinished(route: 0, status: 400, seconds: 0.0001)
        metrics.requestFinished(route: 1, status: 503, seconds: 0.0001)
        metrics.requestFinished(route: 1, status: 299, seconds: 0.0001)
        let text = try Self.parse(metrics, inFlight: 2)
        #expect(text.types["clickwise_requests_total"] == "counter")
        #expect(text.types["clickwise_request_duration_seconds"] == "histogram")
        #expect(text.value("clickwise_requests_total", ["protocol": "http", "route": "predict", "status": "200"]) == 3)
        #expect(text.value("clickwise_requests_total", ["protocol": "http", "route": "predict", "status": "400"]) == 1)
        #expect(text.value("clickwise_requests_total", ["protocol": "grpc", "route": "v2_infer", "status": "503"]) == 1)
        #expect(text.value("clickwise_requests_total", ["protocol": "grpc", "route": "v2_infer", "status": "other"]) == 1)
        #expect(text.samples("clickwise_requests_total", matching: ["route": "metrics"]).isEmpty)
        let predict = ["protocol": "http", "route": "predict"]
        #expect(text.value("clickwise_request_duration_seconds_count", predict) == 4)
        #expect(text.value("clickwise_request_duration_seconds_bucket", predict.merging(["le": "0.00025"]) { $1 }) == 2)
        #expect(abs((text.value("clickwise_request_duration_seconds_sum", predict) ?? 0) - 0.0037) < 1e-9)
        #expect(text.value("clickwise_inflight_requests") == 2)
    }

    @Test("batches, rejections and expiries; per-model Triton series; swift-metrics lands on the same page")
    func inference() throws {
        let metrics = ServingMetrics(routes: Self.routes)
        let statistics = ModelStatistics(metrics: metrics.model(name: "deepfm", version: "3"))
        metrics.runningChanged(by: 1)
        metrics.batchRan(rows: 5, runSeconds: 0.002, queueWaits: [0.0001, 0.0003], failed: false)
        metrics.batchRan(rows: 1, runSeconds: 0.001, queueWaits: [0.0001], failed: true)
        metrics.queueRejected()
        metrics.deadlineExpired(queueWait: 0.01)
        statistics.requestFinished(nanoseconds: 250_000, succeeded: true, unixMilliseconds: 1)
        statistics.requestFinished(nanoseconds: 150_000, succeeded: true, unixMilliseconds: 2)
        statistics.requestFinished(nanoseconds: 90_000, succeeded: false, unixMilliseconds: 3)
        statistics.requestFinished(nanoseconds: 0, succeeded: true, unixMilliseconds: 4)
        statistics.metrics?.setPending(7)
        Counter(label: "library_events_total", dimensions: [("kind", "x")], factory: metrics.factory).increment(by: 2)

        let text = try Self.parse(metrics)
        #expect(text.value("clickwise_ort_runs_total") == 2)
        #expect(text.value("clickwise_ort_run_failures_total") == 1)
        #expect(text.value("clickwise_rows_total") == 5)
        #expect(text.value("clickwise_queue_rejected_total") == 1)
        #expect(text.value("clickwise_queue_expired_total") == 1)
        #expect(text.value("clickwise_queue_wait_seconds_count") == 4)
        #expect(text.value("clickwise_batch_rows_bucket", ["le": "4.0"]) == 1)
        #expect(text.value("clickwise_running_batches") == 1)
        let model = ["model": "deepfm", "version": "3"]
        #expect(text.types["nv_inference_request_success"] == "counter")
        #expect(text.types["nv_inference_pending_request_count"] == "gauge")
        #expect(text.value("nv_inference_request_success", model) == 3)
        #expect(text.value("nv_inference_request_failure", model) == 1)
        #expect(text.value("nv_inference_request_duration_us", model) == 400)
        #expect(text.value("nv_inference_pending_request_count", model) == 7)
        #expect(text.value("library_events_total", ["kind": "x"]) == 2)
    }

    @Test("a batch moves the model's execution, inference and duration counters as the statistics extension counts them")
    func modelBatch() throws {
        let metrics = ServingMetrics(routes: [])
        let statistics = ModelStatistics(metrics: metrics.model(name: "m", version: "1"))
        statistics.batchRan(rows: 6, requests: 3, queueNanoseconds: 9_000, inputNanoseconds: 1_000, runNanoseconds: 20_000,
                            outputNanoseconds: 500)
        let text = try Self.parse(metrics)
        let snapshot = statistics.snapshot
        let model = ["model": "m", "version": "1"]
        #expect(text.value("nv_inference_exec_count", model) == Double(snapshot.executionCount))
        #expect(text.value("nv_inference_count", model) == 6)
        #expect(text.value("nv_inference_queue_duration_us", model) == Double(snapshot.queue.nanoseconds) / 1_000)
        #expect(text.value("nv_inference_compute_input_duration_us", model) == 3)
        #expect(text.value("nv_inference_compute_infer_duration_us", model) == 60)
        #expect(text.value("nv_inference_compute_output_duration_us", model) == 1.5)
    }
}

@Suite("PrometheusText (the tests' reader) refuses what Prometheus refuses")
struct PrometheusTextTests {
    @Test("bad lines are refused with their line number", arguments: [
        ("x 1\n# TYPE x counter\n", 2),
        ("x{a=\"b} 1\n", 1),
        ("x{a=b} 1\n", 1),
        ("9x 1\n", 1),
        ("x one\n", 1),
        ("# TYPE x counter\n# TYPE x gauge\n", 2),
    ])
    func refuses(text: String, line: Int) {
        #expect { try PrometheusText(text) } throws: { ($0 as? PrometheusText.ParseError)?.line == line }
    }

    @Test("a histogram whose buckets shrink or whose +Inf differs from _count is refused")
    func histogram() throws {
        let good = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"
        #expect(try PrometheusText(good).value("h_count") == 2)
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText(good.replacingOccurrences(of: "le=\"1\"} 1", with: "le=\"1\"} 3")) }
        #expect(throws: PrometheusText.ParseError.self) { try PrometheusText(good.replacingOccurrences(of: "h_count 2", with: "h_count 5")) }
    }
}
