import Foundation

extension OnlineEvaluation {
    /// The subdirectory of a model's log directory where `serve --shadow` writes the shadow version's predictions.
    public static let shadowDirectory = "shadow"

    /// What reading a prediction log for evaluation found: each version's labelled predictions and the join's counts.
    public struct LogSamples: Sendable {
        /// Each version's labelled predictions.
        public var samples: [Version: Sample] = [:]
        /// The join's counts (rows, clicks used, late, early, unknown, malformed lines).
        public var report = PredictionJoin.Report()
        /// Rows whose prediction is not a number (a model that failed to answer logs NaN): left out of the metrics.
        public var unscoredRows = 0
    }

    /// The model log directories under `path`: `path` itself when it holds `predictions-*.csv` files (DIR/<model>),
    /// else its subdirectories that do (the `--prediction-log` DIR of several models); each with its `shadow/`
    /// subdirectory when a shadow version logged there (`serve --shadow`: the same requests, scored by another version).
    public static func logDirectories(_ path: String) throws(CTRDataError) -> [String] {
        func hasLogs(_ directory: String) -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasPrefix("predictions-") && $0.hasSuffix(".csv") }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CTRDataError(.fileNotFound, path: path, detail: "not a directory (pass serve's --prediction-log DIR or DIR/<model>)")
        }
        func withShadow(_ directory: String) -> [String] {
            let shadow = (directory as NSString).appendingPathComponent(shadowDirectory)
            return hasLogs(shadow) ? [directory, shadow] : [directory]
        }
        if hasLogs(path) { return withShadow(path) }
        let children = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            .map { (path as NSString).appendingPathComponent($0) }.filter(hasLogs).flatMap(withShadow)
        guard !children.isEmpty else {
            throw CTRDataError(.fileNotFound, path: path, detail: "no predictions-*.csv files here or in its subdirectories")
        }
        return children
    }

    /// Joins the prediction log at `predictions` (DIR or DIR/<model>) with `clicks` by ``PredictionJoin``'s rules and
    /// groups the labelled predictions by the log's `model` and `version` columns.
    public static func samples(predictions: String, clicks: String, windowSeconds: Double,
                               itemField: String? = nil) throws(CTRDataError) -> LogSamples {
        var result = LogSamples()
        var columns: (model: Int, version: Int, prediction: Int) = (0, 0, 0)
        // Rows come in runs of one version: reuse the last key instead of hashing two new Strings per row.
        var last: (model: [UInt8], version: [UInt8], key: Version)?
        result.report = try PredictionJoin.forEachLabelledRow(
            predictions: try logDirectories(predictions), clicks: clicks, windowSeconds: windowSeconds, itemField: itemField,
            file: { (reader: CSVReader) throws(CTRDataError) in
                guard let model = reader.column(named: "model"), let version = reader.column(named: "version"),
                      let prediction = reader.column(named: "prediction") else {
                    throw CTRDataError(.columnNotFound, path: reader.path, detail: "model, version and prediction must be columns of the log")
                }
                columns = (model, version, prediction)
            },
            row: { row, clicked in
                guard let text = row.string(columns.prediction), let prediction = Double(text), prediction.isFinite else {
                    result.unscoredRows += 1
                    return
                }
                let model = row.field(columns.model).map { Array($0) } ?? []
                let version = row.field(columns.version).map { Array($0) } ?? []
                let key: Version
                if let last, last.model == model, last.version == version {
                    key = last.key
                } else {
                    key = Version(model: String(decoding: model, as: UTF8.self), version: String(decoding: version, as: UTF8.self))
                    last = (model, version, key)
                }
                result.samples[key, default: Sample()].append(clicked: clicked, prediction: prediction)
            })
        return result
    }
}
