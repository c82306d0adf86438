import ArgumentParser
import CTRData
import CTRFeatures
import CTRModels
import CTRServing
import Foundation
import ONNXRuntime

/// `clickwise evaluate BUNDLE --data FILE`: AUC and log loss of the bundle's model.onnx, run in ONNX Runtime; with
/// `--predictions LOG --clicks FILE`, each served version's metrics on live traffic instead.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a bundle's AUC and log loss on labelled data, running model.onnx in ONNX Runtime; or, with --clicks, compare the served versions in a prediction log.",
        discussion: """
            Evaluation runs what is served: the bundle's features.json encodes the rows and model.onnx \
            predicts through ONNX Runtime. With --truth (synthetic data writes FILE.truth, picked up \
            automatically) it also prints the oracle AUC of the true click probabilities. --data is read \
            as the bundle's training data was (features.json records the layout); --dataset-config reads it \
            with that config's separator and header or column names instead.

            Online mode (--clicks, no BUNDLE): --predictions is serve's --prediction-log directory (DIR or \
            DIR/<model>); its rows are labelled by data join's rules (--window, --item-field) and, per model \
            version the log holds, evaluate prints rows, clicks, AUC (95% interval from DeLong's standard \
            error), log loss (normal interval), observed click rate (Wilson interval) against the mean \
            prediction, and for each pair of versions a two-sided z-test on their independent AUCs: the \
            difference, p and which version is better when p < 0.05.
            """)

    @Argument(help: "Model bundle directory (model.onnx, features.json); omitted with --clicks.")
    var bundle: String?

    @Option(help: "Labelled data file, laid out as the bundle's training data (features.json records it).")
    var data: String?

    @OptionGroup var layout: DatasetOptions

    @Option(help: "True probabilities, one per data row (default: DATA.truth when it exists).")
    var truth: String?

    @Option(help: "Write each row's predicted probability to this file, one per line in row order; with --clicks, the prediction log directory to evaluate (serve --prediction-log DIR or DIR/<model>).")
    var predictions: String?

    @Option(help: "Online mode: the clicks CSV (as data join's) that labels the --predictions log.")
    var clicks: String?

    @Option(help: "Online mode: how long after a prediction a click still counts: 30m, 2h, 90s, 1d or seconds (default 30m).")
    var window: String?

    @Option(help: "Online mode: match clicks to candidates by this logged field's value instead of by index.")
    var itemField: String?

    @Option(help: "Online mode: also write the metrics and comparisons as JSON to this file.")
    var json: String?

    @Option(help: "Write a self-contained HTML page: ROC curve, calibration plot, the numbers and model.json's training curves.")
    var report: String?

    @Option(help: "Rows per ONNX Runtime call.") var batchSize = 4096
    @Option(help: "Evaluate at most this many rows.") var maxRows: Int?
    @Option(name: [.customLong("intra-threads"), .customLong("threads")],
            help: "ONNX Runtime threads inside one Run, as serve's --intra-threads (--threads: the old name, deprecated).") var threads = 2
    @OptionGroup var runtimeOptions: RuntimeOptions

    func validate() throws {
        if clicks != nil {
            if let bundle { throw ValidationError("--clicks evaluates a prediction log, not a bundle: drop BUNDLE (\(bundle)), or drop --clicks to evaluate the bundle on --data") }
            guard predictions != nil else { throw ValidationError("--clicks needs --predictions DIR, the prediction log (serve --prediction-log) to label") }
            for (name, value) in [("--data", data), ("--truth", truth), ("--report", report)] where value != nil {
                throw ValidationError("\(name) evaluates a bundle; online mode (--clicks) reads only --predictions and --clicks")
            }
            if let window, PredictionJoin.seconds(window) == nil {
                throw ValidationError("--window \(window) is not a duration (30m, 2h, 90s, 1d or seconds)")
            }
        } else {
            guard bundle != nil else { throw ValidationError("missing BUNDLE: evaluate BUNDLE --data FILE, or evaluate --predictions LOG --clicks FILE for served versions") }
            guard data != nil else { throw ValidationError("--data is required to evaluate a bundle (or pass --clicks to evaluate a prediction log)") }
            for (name, value) in [("--window", window), ("--item-field", itemField), ("--json", json)] where value != nil {
                throw ValidationError("\(name) applies to online mode only: pass --predictions LOG --clicks FILE without BUNDLE")
            }
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let maxRows, maxRows < 1 { throw ValidationError("--max-rows must be positive, got \(maxRows)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        guard let bundle, let data else {
            try runOnline()
            return
        }
        let modelPath = try InspectCommand.resolveModelPath(bundle)
        let directory = URL(fileURLWithPath: modelPath).deletingLastPathComponent()
        let map: FeatureMap
        do {
            map = try FeatureMap(contentsOf: directory.appendingPathComponent("features.json"))
        } catch {
            throw CLIError("\(error)")
        }
        let runtime = try runtimeOptions.loadRuntime()
        let predictor: ORTBatchPredictor
        do {
            let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .error))
            let options = try ORTSessionOptions(runtime: runtime)
            try options.setIntraOpThreads(threads)
            let session = try ORTSession(path: modelPath, options: options, environment: environment)
            predictor = try ORTBatchPredictor(session: session, map: map, path: modelPath)
        } catch let error as ServingError {
            throw CLIError(error.message)
        } catch {
            throw CLIError(InspectCommand.firstLine((error as? ORTError)?.message ?? "\(error)"))
        }
        let defaultTruth = SyntheticCriteo.defaultTruthPath(for: data)
        let truthPath = truth ?? (FileManager.default.fileExists(atPath: defaultTruth) ? defaultTruth : nil)
        var dataset = map.datasetConfig
        if let other = try layout.load() {
            dataset.separator = other.separator
            dataset.columnNames = other.columnNames
        }
        let report: EvaluationReport
        do {
            let result = try Evaluator.evaluateKeepingScores(
                dataPath: data, truthPath: truthPath, dataset: dataset, encoder: FeatureEncoder(map: map), predictor: predictor,
                batchSize: batchSize, maxRows: maxRows, predictionsPath: predictions)
            report = result.report
            if let reportPath = self.report {
                let card = try? ModelCard(contentsOf: directory.appendingPathComponent("model.json"))
                let page = QualityReportPage(title: "\(bundle): quality on \(URL(fileURLWithPath: data).lastPathComponent)", dataPath: data,
                                             report: report, card: card, labels: result.labels, scores: result.scores)
                do {
                    try page.html().write(toFile: reportPath, atomically: true, encoding: .utf8)
                } catch {
                    throw CLIError("cannot write \(reportPath): \(error.localizedDescription)")
                }
            }
        } catch let error as CTRModelsError {
            throw CLIError(error.description)
        }
        let architecture = predictor.session.metadata.custom["architecture"] ?? "unknown"
        print("model:          \(modelPath) (\(architecture))")
        print("data:           \(data)")
        let skipped = report.malformedLines > 0
            ? " (\(report.malformedLines) malformed lines skipped: " + (report.malformedSamples ?? []).joined(separator: "; ")
                + (report.malformedLines > (report.malformedSamples?.count ?? 0) ? "; ...)" : ")")
            : ""
        print("rows:           \(report.rows)" + skipped)
        print("AUC:            \(formatMetric(report.auc))")
        print("logloss:        \(String(format: "%.5f", report.logLoss))")
        print("positive rate:  \(String(format: "%.4f", report.positiveRate)), mean prediction \(String(format: "%.4f", report.meanPrediction))")
        if let truthPath {
            print("oracle AUC:     \(formatMetric(report.oracleAUC)) (true probabilities from \(truthPath))")
            print("oracle logloss: \(formatMetric(report.oracleLogLoss))")
        }
        print("time:           \(String(format: "%.1f", report.seconds)) s (\(Int(Double(report.rows) / max(report.seconds, 1e-9))) rows/s)")
        if let reportPath = self.report { print("report:         \(reportPath)") }
    }
}
