/// What a running `Trainer` reports, for progress display and logs.
public enum TrainingEvent: Sendable {
    /// The feature map was fitted.
    case fittedFeatureMap(rows: Int, vocabularySize: Int, seconds: Double)
    /// Periodic progress within an epoch.
    case progress(TrainingProgress)
    /// An epoch ended and was evaluated.
    case epochFinished(EpochReport)
    /// Training stopped before `epochs` because validation AUC stopped improving.
    case stoppedEarly(bestEpoch: Int)
}
