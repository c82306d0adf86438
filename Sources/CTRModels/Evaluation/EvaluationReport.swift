/// Quality of a model on one labelled file.
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// Rows evaluated.
    public var rows: Int
    /// Malformed lines skipped.
    public var malformedLines: Int
    /// The first skipped lines, `line N: reason` (at most three).
    public var malformedSamples: [String]? = nil
    /// ROC AUC (nil with one class only).
    public var auc: Double?
    /// Mean log loss.
    public var logLoss: Double
    /// Share of positive labels.
    public var positiveRate: Double
    /// Mean predicted probability (calibration check against `positiveRate`).
    public var meanPrediction: Double
    /// AUC of the true probabilities (synthetic data only): the best any model can do.
    public var oracleAUC: Double?
    /// Log loss of the true probabilities.
    public var oracleLogLoss: Double?
    /// Wall time, seconds.
    public var seconds: Double
}
