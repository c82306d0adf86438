import Prometheus

/// One model version's series under Triton's metric names (`nv_inference_*`, labels `model` and `version`),
/// so dashboards built for Triton graph this server unchanged.
///
/// ``ModelStatistics`` updates them at the same moments as its own counters; durations are cumulative
/// microseconds, as Triton's are (take a rate to graph them). The pending count is a gauge set when the page
/// is scraped, from the queue that owns the number.
public struct ModelMetrics: Sendable {
    let success: Counter
    let failure: Counter
    let inferenceCount: Counter
    let executionCount: Counter
    let requestDuration: Counter
    let queueDuration: Counter
    let computeInput: Counter
    let computeInfer: Counter
    let computeOutput: Counter
    let pending: Gauge
    let itemTableItems: Gauge
    let itemTableUnknown: Counter

    init(registry: PrometheusCollectorRegistry, model: String, version: String) {
        let labels = [("model", model), ("version", version)]
        func counter(_ name: String, _ help: String) -> Counter { registry.makeCounter(descriptor: .init(name, help: help), labels: labels) }
        success = counter("nv_inference_request_success", "Number of successful inference requests, all batch sizes.")
        failure = counter("nv_inference_request_failure", "Number of inference requests that failed after being queued (deadline, inference error).")
        inferenceCount = counter("nv_inference_count", "Number of inferences performed (rows; a batch of 8 rows counts 8).")
        executionCount = counter("nv_inference_exec_count", "Number of model executions performed (ONNX Runtime runs).")
        requestDuration = counter("nv_inference_request_duration_us", "Cumulative time successful requests spent in the server, in microseconds.")
        queueDuration = counter("nv_inference_queue_duration_us", "Cumulative time requests waited in the queue, in microseconds.")
        computeInput = counter("nv_inference_compute_input_duration_us", "Cumulative time copying request rows into the batch, in microseconds.")
        computeInfer = counter("nv_inference_compute_infer_duration_us", "Cumulative time inside ONNX Runtime's Run, per request, in microseconds.")
        computeOutput = counter("nv_inference_compute_output_duration_us", "Cumulative time handing outputs back, per request, in microseconds.")
        pending = registry.makeGauge(
            descriptor: .init("nv_inference_pending_request_count", help: "Number of requests waiting in the queue for an inference thread."),
            labels: labels)
        itemTableItems = registry.makeGauge(
            descriptor: .init("clickwise_item_table_items", help: "Items in the table ranking candidates are filled from (serve --item-table); 0 without one."),
            labels: labels)
        itemTableUnknown = counter("clickwise_item_table_unknown_ids_total",
                                   "Ranking candidates whose id the item table does not hold (their item fields take the missing values).")
    }

    /// Sets the item-table size gauge (a table was attached or reloaded).
    public func setItemTableItems(_ count: Int) { itemTableItems.set(Int64(count)) }

    /// Counts `count` candidates whose id the item table lacks.
    public func itemTableMissed(_ count: Int) { itemTableUnknown.increment(by: Int64(count)) }

    /// Sets the pending-request gauge (called when the page is scraped).
    public func setPending(_ count: Int) { pending.set(Int64(count)) }
}
