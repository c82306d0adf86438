import CTRData

/// What a running `Trainer` reports, for progress display and logs.
public enum TrainingEvent: Sendable {
    /// The feature map was fitted.
    case fittedFeatureMap(rows: Int, vocabularySize: Int, seconds: Double)
    /// Lines of a data file were skipped (a label or number that does not parse, a wrong field count): the count
    /// and the first few with their line numbers and reasons.
    case skippedLines(path: String, stats: ReadStats)
    /// Periodic progress within an epoch.
    case progress(TrainingProgress)
    /// An epoch ended and was evaluated.
    case epochFinished(EpochReport)
    /// The validation metric did not improve, so the learning rate was divided (FuxiCTR's reduce_lr_on_plateau).
    case learningRateReduced(to: Double)
    /// Training stopped before `epochs` because validation AUC stopped improving.
    case stoppedEarly(bestEpoch: Int)
}
