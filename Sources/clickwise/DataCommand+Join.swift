import ArgumentParser
import CTRData

extension DataCommand {
    /// `clickwise data join`: a prediction log and its clicks as labelled training rows.
    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "join",
            abstract: "Label a prediction log (serve --prediction-log) with the clicks that followed: training rows for train.",
            discussion: """
                --clicks is a CSV with a header: request_id, timestamp_ms (or timestamp, seconds), and index (the log's row or
                candidate index) or the column --item-field names. A served row clicked within --window after it was served
                is a positive, any other a negative; later clicks are counted, not used. The output keeps every log column
                and adds the label, so `train --dataset-config` reads it by its schema's column names.
                """)

        @Option(help: "A model's prediction log directory (<--prediction-log DIR>/<model>).")
        var predictions: String

        @Option(help: "The clicks CSV.")
        var clicks: String

        @Option(help: "The training CSV to write.")
        var out: String

        @Option(help: "How long after a prediction a click still counts: 30m, 2h, 90s, 1d or seconds.")
        var window: String = "30m"

        @Option(help: "The label column's name (the dataset config's label_col).")
        var label: String = "clk"

        @Option(help: "Match clicks to candidates by this logged field's value instead of by index.")
        var itemField: String?

        func run() throws {
            guard let seconds = PredictionJoin.seconds(window) else {
                throw ValidationError("--window \(window) is not a duration (30m, 2h, 90s, 1d or seconds)")
            }
            let report: PredictionJoin.Report
            do {
                report = try PredictionJoin.join(predictions: predictions, clicks: clicks, output: out, label: label, windowSeconds: seconds,
                                                 itemField: itemField)
            } catch {
                throw CLIError("\(error)")
            }
            print("\(out): \(report.rows) rows (\(report.positives) clicked) from \(report.files) log files; clicks: \(report.clicks) read, \(report.clicksUsed) used, \(report.lateClicks) after the window, \(report.earlyClicks) before their prediction, \(report.unknownClicks) on requests the log does not hold; \(report.malformedLines) log lines skipped")
        }
    }
}
