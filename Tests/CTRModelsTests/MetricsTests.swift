import Testing
@testable import CTRModels

@Suite("AUC and log loss against hand-computed values")
struct MetricsTests {
    @Test func aucWithTies() throws {
        // Positives 0.9, 0.5, 0.5; negatives 0.9, 0.1. Pairs: ½ + 1 + 0 + 1 + 0 + 1 = 3.5 of 6.
        let auc = try #require(BinaryMetrics.auc(labels: [1, 0, 1, 0, 1], scores: [0.9, 0.9, 0.5, 0.1, 0.5]))
        #expect(abs(auc - 3.5 / 6) < 1e-12)
    }

    @Test func aucPerfectReversedAndConstant() throws {
        #expect(try #require(BinaryMetrics.auc(labels: [0, 0, 1, 1], scores: [0.1, 0.2, 0.3, 0.4])) == 1)
        #expect(try #require(BinaryMetrics.auc(labels: [1, 1, 0, 0], scores: [0.1, 0.2, 0.3, 0.4])) == 0)
        #expect(try #require(BinaryMetrics.auc(labels: [1, 0, 1, 0], scores: [0.5, 0.5, 0.5, 0.5])) == 0.5)
    }

    @Test func aucUndefinedForOneClass() {
        #expect(BinaryMetrics.auc(labels: [1, 1], scores: [0.2, 0.3]) == nil)
    }

    @Test func logLoss() {
        // −(ln 0.8 + ln 0.6) / 2
        let value = BinaryMetrics.logLoss(labels: [1, 0], probabilities: [0.8, 0.4])
        #expect(abs(value - 0.366_984_584_5) < 1e-9)
    }

    @Test func logLossClipsCertainMistakes() {
        let value = BinaryMetrics.logLoss(labels: [1], probabilities: [0])
        #expect(abs(value - 16.118_095_65) < 1e-6)
    }
}
