/// What the model was trained and validated on, as recorded in model.json.
public struct DataSummary: Codable, Sendable, Equatable {
    /// Training file.
    public var trainPath: String
    /// Where validation rows came from: a file path, or a holdout description.
    public var validationSource: String
    /// Training rows per epoch.
    public var trainRows: Int
    /// Validation rows.
    public var validationRows: Int
    /// Malformed lines skipped in the training file (per pass).
    public var malformedTrainLines: Int
    /// Share of positive labels among training rows.
    public var trainPositiveRate: Double
    /// Rows of the shared embedding table.
    public var vocabularySize: Int
    /// Fingerprint of features.json.
    public var featureMapFingerprint: String
}
