/// The validation metric that picks the best epoch, as FuxiCTR's `monitor` writes it: `AUC`, `logloss`, or a
/// weighted sum such as `{AUC: 1, logloss: -1}`. Larger scores are better (logloss alone counts negatively).
public struct TrainingMonitor: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The weight of validation AUC in the score.
    public var aucWeight: Double
    /// The weight of validation logloss in the score.
    public var logLossWeight: Double

    /// FuxiCTR's default: validation AUC.
    public static let auc = TrainingMonitor(aucWeight: 1, logLossWeight: 0)
    /// Validation logloss, lower is better.
    public static let logLoss = TrainingMonitor(aucWeight: 0, logLossWeight: -1)

    /// A weighted sum of the two metrics.
    public init(aucWeight: Double, logLossWeight: Double) {
        self.aucWeight = aucWeight
        self.logLossWeight = logLossWeight
    }

    /// The score of one evaluation; with an undefined AUC (validation rows of one class) the AUC term is the
    /// negated logloss, so the epoch with the better logloss still wins.
    public func score(auc: Double?, logLoss: Double) -> Double {
        aucWeight * (auc ?? -logLoss) + (logLossWeight == 0 ? 0 : logLossWeight * logLoss)
    }

    /// `AUC`, `logloss`, or `{AUC: 1, logloss: -1}`.
    public var description: String {
        if self == .auc { return "AUC" }
        if self == .logLoss { return "logloss" }
        return "{AUC: \(aucWeight), logloss: \(logLossWeight)}"
    }
}
