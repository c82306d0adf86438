import Foundation
import Testing
@testable import CTRData

/// `clickwise evaluate --predictions LOG --clicks FILE`: per-version metrics with intervals, and the AUC z-test.
@Suite struct OnlineEvaluationTests {
    typealias Version = OnlineEvaluation.Version

    /// `n` rows whose true click probability is uniform on (0.05, 0.5); the prediction is the truth blurred by
    /// `noise` logit units of Gaussian noise (0: the truth itself).
    static func sample(n: Int, noise: Double, seed: UInt64) -> OnlineEvaluation.Sample {
        var rng = SplitMix64(seed: seed)
        var sample = OnlineEvaluation.Sample()
        for _ in 0..<n {
            let p = 0.05 + 0.45 * rng.nextUnit()
            let clicked = rng.nextUnit() < p
            let logit = log(p / (1 - p)) + noise * rng.nextGaussian()
            sample.append(clicked: clicked, prediction: 1 / (1 + exp(-logit)))
        }
        return sample
    }

    @Test func aucAndDeLongErrorOfAHandMadeSet() throws {
        // Positives 0.9, 0.8, 0.6; negatives 0.7, 0.5, 0.4: 8 of 9 pairs ordered. Placements: positives 1, 1, 2/3 and
        // negatives 2/3, 1, 1, each with sample variance 1/27, so SE² = (1/27)/3 + (1/27)/3 = 2/81.
        let clicked = [true, true, false, true, false, false]
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
        let result = try #require(OnlineEvaluation.delongAUC(clicked: clicked, predictions: scores))
        #expect(abs(result.auc - 8.0 / 9) < 1e-12)
        #expect(abs(result.standardError - 2.0.squareRoot() / 9) < 1e-12)
        // A positive at 0.5 outscores the negative at 0.4 and ties the one at 0.5 (one half): 9.5 of 12 pairs.
        let tied = try #require(OnlineEvaluation.delongAUC(clicked: clicked + [true], predictions: scores + [0.5]))
        #expect(abs(tied.auc - 9.5 / 12) < 1e-12)
        #expect(OnlineEvaluation.delongAUC(clicked: [true, true], predictions: [0.1, 0.2]) == nil)

        // Wilson's interval of 0 of 10 reaches 0.2775 (z = 1.96), not the normal interval's zero width.
        let none = OnlineEvaluation.wilson(successes: 0, trials: 10)
        #expect(none.low == 0 && abs(none.high - 0.27753) < 1e-4)
        let half = OnlineEvaluation.wilson(successes: 50, trials: 100)
        #expect(abs(half.low - 0.40383) < 1e-4 && abs(half.high - 0.59617) < 1e-4)

        let summary = try #require(OnlineEvaluation.summarize(Version(model: "m", version: "1"),
                                                              .init(clicked: clicked, predictions: scores)))
        #expect(summary.rows == 6 && summary.clicks == 3 && abs(summary.meanPrediction - 3.9 / 6) < 1e-12)
        let loss = (-log(0.9) - log(0.8) - log(0.3) - log(0.6) - log(0.5) - log(0.6)) / 6
        #expect(abs(summary.logLoss.value - loss) < 1e-12 && summary.logLoss.low < loss && summary.logLoss.high > loss)
    }

    @Test func intervalsNarrowAsRowsGrow() throws {
        let small = try #require(OnlineEvaluation.summarize(Version(model: "m", version: "1"), Self.sample(n: 1_000, noise: 0.5, seed: 1)))
        let large = try #require(OnlineEvaluation.summarize(Version(model: "m", version: "1"), Self.sample(n: 16_000, noise: 0.5, seed: 2)))
        // 16× the rows: about a quarter of the width; at most half allows for the sampling noise of the widths.
        let largeAUC = try #require(large.auc), smallAUC = try #require(small.auc)
        #expect(largeAUC.width < smallAUC.width / 2)
        #expect(large.logLoss.width < small.logLoss.width / 2)
        #expect(large.clickRate.width < small.clickRate.width / 2)
        // A mean prediction equal to the observed rate is calibrated; 0.05 above it is not (at 16K rows).
        let clicked = (0..<16_000).map { $0 % 4 == 0 }
        let exact = try #require(OnlineEvaluation.summarize(Version(model: "m", version: "1"), .init(clicked: clicked, predictions: clicked.map { $0 ? 0.4 : 0.2 })))
        #expect(abs(exact.meanPrediction - 0.25) < 1e-12 && exact.isCalibrated, "\(exact)")
        let high = try #require(OnlineEvaluation.summarize(Version(model: "m", version: "2"), .init(clicked: clicked, predictions: clicked.map { $0 ? 0.45 : 0.25 })))
        #expect(!high.isCalibrated, "\(high)")
    }

    @Test func aClearlyBetterVersionIsSignificantAndIdenticalOnesAreNot() throws {
        let good = Version(model: "m", version: "2"), poor = Version(model: "m", version: "10"), twin = Version(model: "m", version: "3")
        let exact = Self.sample(n: 20_000, noise: 0, seed: 11)
        let evaluation = OnlineEvaluation(samples: [good: exact, poor: Self.sample(n: 20_000, noise: 2, seed: 12), twin: exact])
        // Versions sort numerically: 2, 3, 10.
        #expect(evaluation.summaries.map(\.version) == [good, twin, poor])
        #expect(evaluation.comparisons.count == 3)
        let goodVsPoor = try #require(evaluation.comparisons.first { $0.first == good && $0.second == poor })
        #expect(goodVsPoor.isSignificant && goodVsPoor.better == good && goodVsPoor.difference > 0 && goodVsPoor.pValue < 1e-6)
        let twins = try #require(evaluation.comparisons.first { $0.first == good && $0.second == twin })
        #expect(!twins.isSignificant && twins.better == nil && twins.difference == 0 && twins.pValue == 1)
        // Two versions as good as each other on different traffic: no difference found (z well inside ±1.96).
        let same = OnlineEvaluation(samples: [good: Self.sample(n: 20_000, noise: 0.3, seed: 21), twin: Self.sample(n: 20_000, noise: 0.3, seed: 22)])
        let comparison = try #require(same.comparisons.first)
        #expect(!comparison.isSignificant && abs(comparison.z) < 1.96)
    }

    @Test func readsALogByVersionWithTheJoinsRules() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("log")
        let log = root.appendingPathComponent("m").path
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        let header = "request_id,timestamp_ms,model,version,index,item,prediction\n"
        try (header + "r1,1000,m,1,0,a,0.2\nr1,1000,m,1,1,b,0.7\nr2,2000,m,1,0,a,0.6\nr2,2000,m,1,1,b,0.1\n")
            .write(toFile: log + "/predictions-1.csv", atomically: true, encoding: .utf8)
        // After a hot swap: version 2's rows, one without a prediction (the model did not answer).
        try (header + "r3,3000,m,2,0,a,0.9\nr3,3000,m,2,1,b,0.3\nr4,4000,m,2,0,a,nan\nr4,4000,m,2,1,b,0.4\n")
            .write(toFile: log + "/predictions-2.csv", atomically: true, encoding: .utf8)
        let clicks = directory.appendingPathComponent("clicks.csv").path
        try "request_id,index,timestamp_ms\nr1,1,2000\nr2,0,2000\nr3,0,3500\nr4,1,999999\n".write(toFile: clicks, atomically: true, encoding: .utf8)

        // The root of several models and a model's own directory read the same.
        for path in [root.path, log] {
            let read = try OnlineEvaluation.samples(predictions: path, clicks: clicks, windowSeconds: 60)
            #expect(read.samples.keys.sorted() == [Version(model: "m", version: "1"), Version(model: "m", version: "2")])
            #expect(read.samples[Version(model: "m", version: "1")]?.clicked == [false, true, true, false])
            #expect(read.samples[Version(model: "m", version: "1")]?.predictions == [0.2, 0.7, 0.6, 0.1])
            #expect(read.samples[Version(model: "m", version: "2")]?.clicked == [true, false, false])
            #expect(read.unscoredRows == 1)
            #expect(read.report.rows == 8 && read.report.clicksUsed == 3 && read.report.lateClicks == 1)
            let evaluation = OnlineEvaluation(samples: read.samples)
            #expect(evaluation.summaries.map(\.rows) == [4, 3] && evaluation.summaries.first?.auc?.value == 1)
        }
        // The join that writes training rows counts the same.
        let joined = try PredictionJoin.join(predictions: log, clicks: clicks, output: directory.appendingPathComponent("t.csv").path, windowSeconds: 60)
        #expect(joined.rows == 8 && joined.positives == 3 && joined.lateClicks == 1)

        #expect(throws: CTRDataError.self) { try OnlineEvaluation.samples(predictions: directory.appendingPathComponent("none").path, clicks: clicks, windowSeconds: 60) }
        try "request_id,timestamp_ms,index\nr1,1,0\n".write(toFile: log + "/predictions-3.csv", atomically: true, encoding: .utf8)
        #expect { try OnlineEvaluation.samples(predictions: log, clicks: clicks, windowSeconds: 60) } throws: { "\($0)".contains("model, version and prediction") }
    }
}
