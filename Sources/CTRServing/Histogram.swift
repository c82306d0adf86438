/// A Prometheus-style cumulative histogram over fixed upper bounds (a plain value; guard it with a lock).
public struct Histogram: Sendable {
    public let upperBounds: [Double]
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    /// Creates an empty histogram with the given ascending bucket bounds (+Inf is implicit).
    public init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        counts = [UInt64](repeating: 0, count: upperBounds.count + 1)
    }

    /// Adds one observation.
    public mutating func observe(_ value: Double) {
        var index = 0
        while index < upperBounds.count && value > upperBounds[index] { index += 1 }
        counts[index] &+= 1
        sum += value
        count &+= 1
    }

    /// Appends the `_bucket`, `_sum` and `_count` lines for `name` with extra `labels` ("a=\"b\"" form).
    public func render(name: String, labels: String = "", into output: inout String) {
        let prefix = labels.isEmpty ? "" : labels + ","
        var cumulative: UInt64 = 0
        for (index, bound) in upperBounds.enumerated() {
            cumulative += counts[index]
            output += "\(name)_bucket{\(prefix)le=\"\(Self.format(bound))\"} \(cumulative)\n"
        }
        cumulative += counts[upperBounds.count]
        output += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(cumulative)\n"
        let suffix = labels.isEmpty ? "" : "{\(labels)}"
        output += "\(name)_sum\(suffix) \(sum)\n"
        output += "\(name)_count\(suffix) \(count)\n"
    }

    /// The value below which `quantile` of observations fall, to bucket resolution (the bucket's upper bound).
    public func quantileUpperBound(_ quantile: Double) -> Double? {
        guard count > 0 else { return nil }
        let target = UInt64((Double(count) * quantile).rounded(.up))
        var cumulative: UInt64 = 0
        for (index, bucket) in counts.enumerated() {
            cumulative += bucket
            if cumulative >= target { return index < upperBounds.count ? upperBounds[index] : .infinity }
        }
        return .infinity
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Latency buckets from 50 µs to 10 s, in seconds.
    public static let latencySeconds: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]

    /// Batch-size buckets in rows.
    public static let batchRows: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
}
