import ArgumentParser
import CTRData
import Foundation

extension EvaluateCommand {
    /// Online mode: each served version's metrics on the traffic it served, and which versions differ.
    func runOnline() throws {
        guard let predictions, let clicks else { throw CLIError("online evaluation needs --predictions and --clicks") }
        let window = self.window ?? "30m"
        guard let seconds = PredictionJoin.seconds(window) else {
            throw ValidationError("--window \(window) is not a duration (30m, 2h, 90s, 1d or seconds)")
        }
        let log: OnlineEvaluation.LogSamples
        do {
            log = try OnlineEvaluation.samples(predictions: predictions, clicks: clicks, windowSeconds: seconds, itemField: itemField)
        } catch {
            throw CLIError("\(error)")
        }
        let evaluation = OnlineEvaluation(samples: log.samples)
        let report = log.report
        print("log:    \(predictions) (\(report.files) files, \(report.rows) rows; \(report.malformedLines) malformed lines and \(log.unscoredRows) rows without a prediction skipped)")
        print("clicks: \(clicks): \(report.clicks) read, \(report.clicksUsed) used within \(window), \(report.lateClicks) after the window, \(report.earlyClicks) before their prediction, \(report.unknownClicks) on requests the log does not hold")
        print("")
        print(Self.table(evaluation))
        if !evaluation.comparisons.isEmpty {
            print("")
            print("AUC differences (\(OnlineEvaluation.testName), alpha \(evaluation.alpha)):")
            for comparison in evaluation.comparisons {
                let verdict = comparison.better.map { "\($0) is better" } ?? "no significant difference"
                print("  \(comparison.first) vs \(comparison.second): \(Self.signed(comparison.difference)) (95% CI ±\(Self.fixed(OnlineEvaluation.z95 * comparison.standardError))), z \(String(format: "%.2f", comparison.z)), p \(Self.pValue(comparison.pValue)): \(verdict)")
            }
        }
        if let json {
            do {
                let data = try JSONSerialization.data(withJSONObject: Self.jsonObject(evaluation, report: report, unscored: log.unscoredRows),
                                                      options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                try data.write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                throw CLIError("cannot write \(json): \(error.localizedDescription)")
            }
            print("json:   \(json)")
        }
    }

    static func fixed(_ value: Double) -> String { String(format: "%.4f", value) }
    static func signed(_ value: Double) -> String { String(format: "%+.4f", value) }
    static func pValue(_ value: Double) -> String { value < 1e-4 ? String(format: "%.1e", value) : String(format: "%.4f", value) }

    static func interval(_ estimate: OnlineEvaluation.Estimate?) -> String {
        guard let estimate else { return "n/a (one class)" }
        return "\(fixed(estimate.value)) [\(fixed(estimate.low)), \(fixed(estimate.high))]"
    }

    /// One line per version, columns padded to their widest cell.
    static func table(_ evaluation: OnlineEvaluation) -> String {
        var rows = [["version", "rows", "clicks", "AUC [95% CI]", "logloss [95% CI]", "CTR [95% Wilson]", "mean pred", "calibrated"]]
        for summary in evaluation.summaries {
            rows.append([summary.version.description, "\(summary.rows)", "\(summary.clicks)", interval(summary.auc), interval(summary.logLoss),
                         interval(summary.clickRate), fixed(summary.meanPrediction), summary.isCalibrated ? "yes" : "no"])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func jsonObject(_ evaluation: OnlineEvaluation, report: PredictionJoin.Report, unscored: Int) -> [String: Any] {
        func estimate(_ value: OnlineEvaluation.Estimate?) -> Any {
            guard let value else { return NSNull() }
            return ["value": value.value, "low": value.low, "high": value.high]
        }
        return [
            "test": OnlineEvaluation.testName,
            "alpha": evaluation.alpha,
            "join": ["files": report.files, "rows": report.rows, "clicks": report.clicks, "clicks_used": report.clicksUsed,
                     "late_clicks": report.lateClicks, "early_clicks": report.earlyClicks, "unknown_clicks": report.unknownClicks,
                     "malformed_lines": report.malformedLines, "unscored_rows": unscored],
            "versions": evaluation.summaries.map { summary -> [String: Any] in
                ["model": summary.version.model, "version": summary.version.version, "rows": summary.rows, "clicks": summary.clicks,
                 "auc": estimate(summary.auc), "auc_standard_error": summary.aucStandardError.map { $0 as Any } ?? NSNull(),
                 "logloss": estimate(summary.logLoss), "click_rate": estimate(summary.clickRate),
                 "mean_prediction": summary.meanPrediction, "calibrated": summary.isCalibrated]
            },
            "comparisons": evaluation.comparisons.map { comparison -> [String: Any] in
                ["first": comparison.first.description, "second": comparison.second.description, "auc_difference": comparison.difference,
                 "standard_error": comparison.standardError, "z": comparison.z, "p": comparison.pValue,
                 "significant": comparison.isSignificant, "better": comparison.better.map { $0.description as Any } ?? NSNull()]
            },
        ]
    }
}
