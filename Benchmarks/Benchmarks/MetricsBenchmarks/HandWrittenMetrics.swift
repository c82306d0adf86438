import Synchronization

/// The recording half of `ServingMetrics` as it was before swift-prometheus (commit 2117833), kept here only as
/// the same-run baseline: a lock per family over plain arrays, fixed-bucket histograms, an atomic in-flight gauge.
final class HandWrittenMetrics: Sendable {
    struct Histogram: Sendable {
        let upperBounds: [Double]
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0

        init(upperBounds: [Double]) {
            self.upperBounds = upperBounds
            counts = [UInt64](repeating: 0, count: upperBounds.count + 1)
        }

        mutating func observe(_ value: Double) {
            var index = 0
            while index < upperBounds.count && value > upperBounds[index] { index += 1 }
            counts[index] &+= 1
            sum += value
            count &+= 1
        }
    }

    private struct RequestFamily {
        var counts: [[UInt64]]
        var latency: [Histogram]
    }

    private struct InferenceFamily {
        var queueWait: Histogram
        var runTime: Histogram
        var batchRows: Histogram
        var rows: UInt64 = 0
        var runs: UInt64 = 0
        var failedRuns: UInt64 = 0
    }

    static let statusCodes: [Int] = [200, 400, 404, 405, 408, 413, 415, 422, 500, 503, 504]
    private let requests: Mutex<RequestFamily>
    private let inference: Mutex<InferenceFamily>
    private let inFlight = Atomic<Int>(0)
    private let running = Atomic<Int>(0)

    init(routes: Int, latencySeconds: [Double], batchRows: [Double]) {
        requests = Mutex(RequestFamily(
            counts: Array(repeating: Array(repeating: 0, count: Self.statusCodes.count + 1), count: routes),
            latency: Array(repeating: Histogram(upperBounds: latencySeconds), count: routes)))
        inference = Mutex(InferenceFamily(queueWait: Histogram(upperBounds: latencySeconds), runTime: Histogram(upperBounds: latencySeconds),
                                          batchRows: Histogram(upperBounds: batchRows)))
    }

    func requestStarted() { inFlight.add(1, ordering: .relaxed) }

    func requestFinished(route: Int, status: Int, seconds: Double) {
        inFlight.subtract(1, ordering: .relaxed)
        let statusIndex = Self.statusCodes.firstIndex(of: status) ?? Self.statusCodes.count
        requests.withLock { family in
            family.counts[route][statusIndex] &+= 1
            family.latency[route].observe(seconds)
        }
    }

    func runningChanged(by delta: Int) { running.add(delta, ordering: .relaxed) }

    func batchRan(rows: Int, runSeconds: Double, queueWaits: some Sequence<Double>, failed: Bool) {
        inference.withLock { family in
            family.runs &+= 1
            if failed { family.failedRuns &+= 1 } else { family.rows &+= UInt64(rows) }
            family.runTime.observe(runSeconds)
            family.batchRows.observe(Double(rows))
            for wait in queueWaits { family.queueWait.observe(wait) }
        }
    }
}
