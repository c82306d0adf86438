/// Metrics of one finished epoch, as recorded in model.json.
public struct EpochReport: Codable, Sendable, Equatable {
    /// One-based epoch.
    public var epoch: Int
    /// Training rows seen.
    public var trainRows: Int
    /// Mean training log loss.
    public var trainLogLoss: Double
    /// Validation AUC (nil if undefined: one class only).
    public var validationAUC: Double?
    /// Validation log loss.
    public var validationLogLoss: Double
    /// Training throughput, rows per second (excluding evaluation).
    public var rowsPerSecond: Double
    /// Wall time of the epoch's training part.
    public var trainSeconds: Double

    // See ModelCard: the acronym must survive model.json's snake_case round trip.
    private enum CodingKeys: String, CodingKey {
        case epoch, trainRows, trainLogLoss
        case validationAUC = "validationAuc"
        case validationLogLoss, rowsPerSecond, trainSeconds
    }
}
