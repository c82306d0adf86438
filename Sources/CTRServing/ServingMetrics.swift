import Synchronization

/// Everything `/metrics` reports, recorded from event loops and inference threads alike.
///
/// Each family has its own lock so an inference thread recording a batch never waits for an event loop
/// recording a request. Names follow Prometheus conventions with the `clickwise_` prefix.
public final class ServingMetrics: Sendable {
    /// HTTP status codes counted individually; anything else is counted as "other".
    public static let statusCodes: [Int] = [200, 400, 404, 405, 408, 413, 415, 422, 500, 503, 504]

    private struct RequestFamily {
        var counts: [[UInt64]]              // [route][status index]
        var latency: [Histogram]            // [route]
    }

    private struct InferenceFamily {
        var queueWait = Histogram(upperBounds: Histogram.latencySeconds)
        var runTime = Histogram(upperBounds: Histogram.latencySeconds)
        var batchRows = Histogram(upperBounds: Histogram.batchRows)
        var rows: UInt64 = 0
        var runs: UInt64 = 0
        var rejected: UInt64 = 0
        var expired: UInt64 = 0
        var failedRuns: UInt64 = 0
    }

    /// Each route's labels: the front end that served it (`http`, `grpc`) and its name.
    public let routes: [(protocol: String, route: String)]
    private let requests: Mutex<RequestFamily>
    private let inference = Mutex(InferenceFamily())
    private let inFlight = Atomic<Int>(0)
    private let running = Atomic<Int>(0)

    /// Creates metrics for the given routes (indices are used when recording).
    public init(routes: [(protocol: String, route: String)]) {
        self.routes = routes
        requests = Mutex(RequestFamily(
            counts: Array(repeating: Array(repeating: 0, count: Self.statusCodes.count + 1), count: routes.count),
            latency: Array(repeating: Histogram(upperBounds: Histogram.latencySeconds), count: routes.count)))
    }

    /// A request started.
    public func requestStarted() { inFlight.add(1, ordering: .relaxed) }

    /// A request finished with `status` after `seconds`.
    public func requestFinished(route: Int, status: Int, seconds: Double) {
        inFlight.subtract(1, ordering: .relaxed)
        let statusIndex = Self.statusCodes.firstIndex(of: status) ?? Self.statusCodes.count
        requests.withLock { family in
            family.counts[route][statusIndex] &+= 1
            family.latency[route].observe(seconds)
        }
    }

    /// Requests being handled right now.
    public var inFlightRequests: Int { inFlight.load(ordering: .relaxed) }

    /// An inference thread started (+1) or finished (-1) a run.
    public func runningChanged(by delta: Int) { running.add(delta, ordering: .relaxed) }

    /// ONNX Runtime runs in progress right now.
    public var runningBatches: Int { running.load(ordering: .relaxed) }

    /// One ONNX Runtime run of `rows` rows that took `runSeconds`, for jobs that waited `queueWaits` seconds.
    public func batchRan(rows: Int, runSeconds: Double, queueWaits: some Sequence<Double>, failed: Bool) {
        inference.withLock { family in
            family.runs &+= 1
            if failed { family.failedRuns &+= 1 } else { family.rows &+= UInt64(rows) }
            family.runTime.observe(runSeconds)
            family.batchRows.observe(Double(rows))
            for wait in queueWaits { family.queueWait.observe(wait) }
        }
    }

    /// A request was turned away because the queue was full.
    public func queueRejected() { inference.withLock { $0.rejected &+= 1 } }

    /// A request's deadline passed in the queue.
    public func deadlineExpired(queueWait: Double) {
        inference.withLock { family in
            family.expired &+= 1
            family.queueWait.observe(queueWait)
        }
    }

    /// Rows predicted so far.
    public var rowsServed: UInt64 { inference.withLock { $0.rows } }

    /// A snapshot of rows per run, for tests and the tuner.
    public var batchRowsHistogram: Histogram { inference.withLock { $0.batchRows } }

    /// Counts of rejected (queue full) and expired (deadline) requests.
    public var rejectedAndExpired: (rejected: UInt64, expired: UInt64) { inference.withLock { ($0.rejected, $0.expired) } }

    /// The Prometheus text exposition (format 0.0.4).
    public func render() -> String {
        var out = ""
        let requestSnapshot = requests.withLock { $0 }
        out += "# HELP clickwise_requests_total Requests by protocol, route and status (gRPC calls count under the HTTP status of their outcome).\n# TYPE clickwise_requests_total counter\n"
        for (routeIndex, route) in routes.enumerated() {
            for (statusIndex, count) in requestSnapshot.counts[routeIndex].enumerated() where count > 0 {
                let status = statusIndex < Self.statusCodes.count ? String(Self.statusCodes[statusIndex]) : "other"
                out += "clickwise_requests_total{protocol=\"\(route.protocol)\",route=\"\(route.route)\",status=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP clickwise_request_duration_seconds Time from a complete request to its response.\n# TYPE clickwise_request_duration_seconds histogram\n"
        for (routeIndex, route) in routes.enumerated() where requestSnapshot.latency[routeIndex].count > 0 {
            requestSnapshot.latency[routeIndex].render(name: "clickwise_request_duration_seconds", labels: "protocol=\"\(route.protocol)\",route=\"\(route.route)\"", into: &out)
        }
        out += "# HELP clickwise_inflight_requests Requests being handled.\n# TYPE clickwise_inflight_requests gauge\n"
        out += "clickwise_inflight_requests \(inFlightRequests)\n"
        out += "# HELP clickwise_running_batches ONNX Runtime runs in progress.\n# TYPE clickwise_running_batches gauge\n"
        out += "clickwise_running_batches \(runningBatches)\n"
        let family = inference.withLock { $0 }
        out += "# HELP clickwise_rows_total Rows predicted.\n# TYPE clickwise_rows_total counter\nclickwise_rows_total \(family.rows)\n"
        out += "# HELP clickwise_ort_runs_total ONNX Runtime runs.\n# TYPE clickwise_ort_runs_total counter\nclickwise_ort_runs_total \(family.runs)\n"
        out += "# HELP clickwise_ort_run_failures_total ONNX Runtime runs that failed.\n# TYPE clickwise_ort_run_failures_total counter\nclickwise_ort_run_failures_total \(family.failedRuns)\n"
        out += "# HELP clickwise_queue_rejected_total Requests refused because the queue was full.\n# TYPE clickwise_queue_rejected_total counter\nclickwise_queue_rejected_total \(family.rejected)\n"
        out += "# HELP clickwise_queue_expired_total Requests whose deadline passed in the queue.\n# TYPE clickwise_queue_expired_total counter\nclickwise_queue_expired_total \(family.expired)\n"
        out += "# HELP clickwise_queue_wait_seconds Time a request waited for a session (and for its batch to form).\n# TYPE clickwise_queue_wait_seconds histogram\n"
        family.queueWait.render(name: "clickwise_queue_wait_seconds", into: &out)
        out += "# HELP clickwise_ort_run_seconds Time inside ONNX Runtime's Run per batch.\n# TYPE clickwise_ort_run_seconds histogram\n"
        family.runTime.render(name: "clickwise_ort_run_seconds", into: &out)
        out += "# HELP clickwise_batch_rows Rows per ONNX Runtime run.\n# TYPE clickwise_batch_rows histogram\n"
        family.batchRows.render(name: "clickwise_batch_rows", into: &out)
        return out
    }
}
