#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How each served model version did on the traffic it served, with 95% confidence intervals, and which versions
/// differ significantly (`clickwise evaluate --predictions LOG --clicks FILE`).
///
/// Each version's rows are its served predictions labelled by ``PredictionJoin``'s rules. AUC's interval uses
/// DeLong's standard error (the variance of the per-positive and per-negative placement values); log loss's the
/// normal approximation over the per-row losses; the observed click rate's is Wilson's score interval, against which
/// the mean prediction is the calibration check. Two versions are compared with a two-sided z-test on the difference
/// of their AUCs, `z = (A₁ − A₂) / √(SE₁² + SE₂²)`: the versions served disjoint requests (a traffic split or
/// successive days), so their AUCs are independent. Each pair is tested at `alpha` with no multiple-comparison
/// correction.
public struct OnlineEvaluation: Sendable {
    /// A served model version: the log's `model` and `version` columns.
    public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The served model's name.
        public var model: String
        /// The version directory's name.
        public var version: String

        /// Creates a version key.
        public init(model: String, version: String) {
            self.model = model
            self.version = version
        }

        /// Model name, then version numerically when both are numbers, else by text.
        public static func < (lhs: Version, rhs: Version) -> Bool {
            if lhs.model != rhs.model { return lhs.model < rhs.model }
            if let a = Int(lhs.version), let b = Int(rhs.version), a != b { return a < b }
            return lhs.version < rhs.version
        }

        /// `model/version`.
        public var description: String { "\(model)/\(version)" }
    }

    /// One version's labelled predictions.
    public struct Sample: Sendable {
        /// Whether each served row was clicked.
        public var clicked: [Bool] = []
        /// Each served row's prediction.
        public var predictions: [Double] = []

        /// An empty sample.
        public init() {}

        /// A sample from parallel arrays.
        public init(clicked: [Bool], predictions: [Double]) {
            precondition(clicked.count == predictions.count, "clicked and predictions differ in length")
            self.clicked = clicked
            self.predictions = predictions
        }

        /// Adds one served row.
        public mutating func append(clicked: Bool, prediction: Double) {
            self.clicked.append(clicked)
            predictions.append(prediction)
        }
    }

    /// A point estimate with its 95% confidence interval.
    public struct Estimate: Sendable, Equatable {
        /// The estimate.
        public var value: Double
        /// The interval's ends.
        public var low: Double
        public var high: Double

        /// The interval's width.
        public var width: Double { high - low }
    }

    /// One version's metrics.
    public struct Summary: Sendable {
        /// Which version.
        public var version: Version
        /// Served rows and how many were clicked.
        public var rows: Int
        public var clicks: Int
        /// AUC with DeLong's interval, and its standard error; nil when the rows hold only one class.
        public var auc: Estimate?
        public var aucStandardError: Double?
        /// Mean log loss (predictions clipped to [1e-7, 1 − 1e-7]) with a normal interval.
        public var logLoss: Estimate
        /// Observed click rate with Wilson's interval.
        public var clickRate: Estimate
        /// Mean prediction: calibrated when inside ``clickRate``'s interval.
        public var meanPrediction: Double

        /// Whether the mean prediction lies within the observed click rate's interval.
        public var isCalibrated: Bool { meanPrediction >= clickRate.low && meanPrediction <= clickRate.high }
    }

    /// The z-test of two versions' AUCs.
    public struct Comparison: Sendable {
        /// The versions compared.
        public var first: Version
        public var second: Version
        /// First's AUC minus second's, its standard error, z and the two-sided p-value.
        public var difference: Double
        public var standardError: Double
        public var z: Double
        public var pValue: Double
        /// Whether p < alpha.
        public var isSignificant: Bool
        /// The version with the higher AUC when the difference is significant, else nil.
        public var better: Version?
    }

    /// The test named in reports.
    public static let testName = "two-sided z-test on independent AUCs (DeLong standard errors)"
    /// The normal quantile of a 95% two-sided interval.
    public static let z95 = 1.959963984540054

    /// Every version's metrics, in ``Version`` order.
    public var summaries: [Summary]
    /// Every pair of versions with an AUC, first before second in ``Version`` order.
    public var comparisons: [Comparison]
    /// The significance level of the comparisons.
    public var alpha: Double

    /// Summarizes each version's sample and compares every pair at `alpha`.
    public init(samples: [Version: Sample], alpha: Double = 0.05) {
        self.alpha = alpha
        summaries = samples.keys.sorted().compactMap { version in
            samples[version].flatMap { Self.summarize(version, $0) }
        }
        var comparisons: [Comparison] = []
        for (i, first) in summaries.enumerated() {
            for second in summaries[(i + 1)...] {
                if let comparison = Self.compare(first, second, alpha: alpha) { comparisons.append(comparison) }
            }
        }
        self.comparisons = comparisons
    }

    /// One version's metrics; nil for an empty sample.
    public static func summarize(_ version: Version, _ sample: Sample) -> Summary? {
        let n = sample.clicked.count
        guard n > 0 else { return nil }
        let clicks = sample.clicked.reduce(0) { $0 + ($1 ? 1 : 0) }
        let eps = 1e-7
        var sum = 0.0, squares = 0.0, predictionSum = 0.0
        for (clicked, prediction) in zip(sample.clicked, sample.predictions) {
            let p = min(max(prediction, eps), 1 - eps)
            let loss = clicked ? -log(p) : -log(1 - p)
            sum += loss
            squares += loss * loss
            predictionSum += prediction
        }
        let mean = sum / Double(n)
        let variance = n > 1 ? max(squares - Double(n) * mean * mean, 0) / Double(n - 1) : 0
        let lossError = (variance / Double(n)).squareRoot()
        let auc = delongAUC(clicked: sample.clicked, predictions: sample.predictions)
        return Summary(
            version: version, rows: n, clicks: clicks,
            auc: auc.map { Estimate(value: $0.auc, low: max($0.auc - z95 * $0.standardError, 0), high: min($0.auc + z95 * $0.standardError, 1)) },
            aucStandardError: auc?.standardError,
            logLoss: Estimate(value: mean, low: mean - z95 * lossError, high: mean + z95 * lossError),
            clickRate: wilson(successes: clicks, trials: n),
            meanPrediction: predictionSum / Double(n))
    }

    /// AUC (the Mann–Whitney statistic, ties counting one half) and DeLong's standard error; nil without both classes.
    ///
    /// DeLong, DeLong & Clarke-Pearson (1988): each positive's placement is the share of negatives it outscores, each
    /// negative's the share of positives that outscore it; Var(AUC) = Var(positive placements)/m + Var(negative
    /// placements)/n. One sort, O(N log N).
    public static func delongAUC(clicked: [Bool], predictions: [Double]) -> (auc: Double, standardError: Double)? {
        precondition(clicked.count == predictions.count, "clicked and predictions differ in length")
        let m = clicked.reduce(0) { $0 + ($1 ? 1 : 0) }, n = clicked.count - m
        guard m > 0, n > 0 else { return nil }
        let order = predictions.indices.sorted { predictions[$0] < predictions[$1] }
        var positivePlacements: [Double] = [], negativePlacements: [Double] = []
        positivePlacements.reserveCapacity(m)
        negativePlacements.reserveCapacity(n)
        var positivesBelow = 0, negativesBelow = 0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && predictions[order[end]] == predictions[order[start]] { end += 1 }
            var tiedPositives = 0
            for i in start..<end where clicked[order[i]] { tiedPositives += 1 }
            let tiedNegatives = end - start - tiedPositives
            let positivePlacement = (Double(negativesBelow) + 0.5 * Double(tiedNegatives)) / Double(n)
            let negativePlacement = (Double(m - positivesBelow - tiedPositives) + 0.5 * Double(tiedPositives)) / Double(m)
            for _ in 0..<tiedPositives { positivePlacements.append(positivePlacement) }
            for _ in 0..<tiedNegatives { negativePlacements.append(negativePlacement) }
            positivesBelow += tiedPositives
            negativesBelow += tiedNegatives
            start = end
        }
        func meanAndVariance(_ values: [Double]) -> (Double, Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            guard values.count > 1 else { return (mean, 0) }
            return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1))
        }
        let (auc, positiveVariance) = meanAndVariance(positivePlacements)
        let (_, negativeVariance) = meanAndVariance(negativePlacements)
        return (auc, (positiveVariance / Double(m) + negativeVariance / Double(n)).squareRoot())
    }

    /// The share `successes / trials` with Wilson's score interval at `z` (95% by default).
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> Estimate {
        precondition(trials > 0 && successes >= 0 && successes <= trials, "wilson: need 0 <= successes <= trials, trials > 0")
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Estimate(value: p, low: max(center - half, 0), high: min(center + half, 1))
    }

    /// The z-test of `first`'s AUC against `second`'s; nil when either has no AUC or both standard errors are zero.
    public static func compare(_ first: Summary, _ second: Summary, alpha: Double = 0.05) -> Comparison? {
        guard let a = first.auc?.value, let b = second.auc?.value,
              let errorA = first.aucStandardError, let errorB = second.aucStandardError else { return nil }
        let error = (errorA * errorA + errorB * errorB).squareRoot()
        guard error > 0 else { return nil }
        let z = (a - b) / error
        let p = erfc(abs(z) / 2.0.squareRoot())
        let significant = p < alpha
        return Comparison(first: first.version, second: second.version, difference: a - b, standardError: error, z: z, pValue: p,
                          isSignificant: significant, better: significant ? (a > b ? first.version : second.version) : nil)
    }
}
