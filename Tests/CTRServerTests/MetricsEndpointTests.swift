import ClickwiseTestSupport
import Testing
@testable import CTRServer

@Suite("/metrics over both front ends: Prometheus text, per-model Triton series")
struct MetricsEndpointTests {
    @Test("two models, HTTP and gRPC: each model's nv_inference_* series count its own requests, rows and runs, and move")
    func perModel() async throws {
        let server = try await GRPCTestServer.start(names: ["tiny", "twin"])
        let client = HTTPTestClient(port: server.http.port)
        for start in [0, 2, 4] {
            #expect(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: start..<(start + 2))).status == 200)
        }
        // Refused while decoding: never queued, so not a model failure.
        #expect(try client.send("POST", "/v1/models/twin:predict", body: Array(#"{"instances":[{"nope":1}]}"#.utf8)).status == 400)
        try await server.withClient { grpc in
            for _ in 0..<2 {
                var request = GRPCRequests.raw(0..<3)
                request.modelName = "twin"
                _ = try await grpc.modelInfer(request)
            }
        }
        let page = try client.send("GET", "/metrics")
        #expect(page.status == 200)
        let text = try PrometheusText(page.text)
        let tiny = ["model": "tiny", "version": "1"], twin = ["model": "twin", "version": "1"]
        for name in ["nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count", "nv_inference_exec_count",
                     "nv_inference_request_duration_us", "nv_inference_queue_duration_us", "nv_inference_compute_infer_duration_us"] {
            #expect(text.types[name] == "counter", "\(name)")
        }
        #expect(text.types["nv_inference_pending_request_count"] == "gauge")
        #expect(text.value("nv_inference_request_success", tiny) == 3)
        #expect(text.value("nv_inference_request_success", twin) == 2)
        #expect(text.value("nv_inference_request_failure", tiny) == 0)
        #expect(text.value("nv_inference_request_failure", twin) == 0)
        #expect(text.value("nv_inference_count", tiny) == 6)
        #expect(text.value("nv_inference_count", twin) == 6)
        #expect(text.value("nv_inference_exec_count", tiny) == 3)
        #expect(text.value("nv_inference_exec_count", twin) == 2)
        #expect(text.value("nv_inference_pending_request_count", tiny) == 0)
        for labels in [tiny, twin] {
            let total = try #require(text.value("nv_inference_request_duration_us", labels))
            let compute = try #require(text.value("nv_inference_compute_infer_duration_us", labels))
            let queue = try #require(text.value("nv_inference_queue_duration_us", labels))
            #expect(compute > 0 && queue >= 0 && total >= compute + queue, "\(labels): total \(total), compute \(compute), queue \(queue)")
        }
        #expect(text.value("clickwise_requests_total", ["protocol": "http", "route": "predict", "status": "200"]) == 3)
        #expect(text.value("clickwise_requests_total", ["protocol": "http", "route": "predict", "status": "400"]) == 1)
        #expect(text.value("clickwise_requests_total", ["protocol": "grpc", "route": "v2_infer", "status": "200"]) == 2)
        #expect(text.value("clickwise_request_duration_seconds_count", ["protocol": "grpc", "route": "v2_infer"]) == 2)
        #expect(text.value("clickwise_rows_total") == 12)

        #expect(try client.send("POST", "/v1/models/twin:predict", body: TestRows.body(rows: 0..<4)).status == 200)
        let after = try PrometheusText(try client.send("GET", "/metrics").text)
        #expect(after.value("nv_inference_request_success", twin) == 3)
        #expect(after.value("nv_inference_count", twin) == 10)
        #expect(after.value("nv_inference_request_success", tiny) == 3)
        #expect(after.value("clickwise_requests_total", ["protocol": "http", "route": "metrics", "status": "200"]) == 1)
        await server.stop()
    }
}
