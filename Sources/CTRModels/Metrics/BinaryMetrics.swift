import Foundation

/// Ranking and calibration metrics for binary labels.
public enum BinaryMetrics {
    /// Exact ROC AUC from ranks (Mann–Whitney U); tied scores share their average rank.
    ///
    /// Returns `nil` when the labels hold only one class (AUC is undefined).
    public static func auc(labels: [Float], scores: [Float]) -> Double? {
        precondition(labels.count == scores.count, "auc: labels and scores differ in length")
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var positives = 0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && scores[order[end]] == scores[order[start]] { end += 1 }
            // Ranks start..<end (1-based: start+1 ... end) share their mean.
            let averageRank = Double(start + 1 + end) / 2
            for i in start..<end where labels[order[i]] > 0.5 {
                positiveRankSum += averageRank
                positives += 1
            }
            start = end
        }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    /// Mean binary cross-entropy; probabilities are clipped to [1e-7, 1 − 1e-7] as Keras/FuxiCTR do.
    public static func logLoss(labels: [Float], probabilities: [Float]) -> Double {
        precondition(labels.count == probabilities.count, "logLoss: labels and probabilities differ in length")
        guard !labels.isEmpty else { return .nan }
        let eps = 1e-7
        var total = 0.0
        for (label, probability) in zip(labels, probabilities) {
            let p = min(max(Double(probability), eps), 1 - eps)
            total -= Double(label) * log(p) + (1 - Double(label)) * log(1 - p)
        }
        return total / Double(labels.count)
    }
}
