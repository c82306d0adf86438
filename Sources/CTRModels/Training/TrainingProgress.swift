/// A snapshot of progress within one epoch.
public struct TrainingProgress: Sendable {
    /// One-based epoch.
    public var epoch: Int
    /// Training rows processed in this epoch.
    public var rows: Int
    /// Training rows expected per epoch (known after the feature-map pass).
    public var expectedRows: Int
    /// Mean training log loss so far in this epoch.
    public var loss: Double
    /// Training rows per second in this epoch.
    public var rowsPerSecond: Double
    /// Estimated seconds left in this epoch.
    public var etaSeconds: Double
}
