import ArgumentParser
import CTRData
import CTRFeatures
import CTRModels
import CTRServing
import Foundation
import ONNXRuntime

/// `clickwise evaluate BUNDLE --data FILE`: AUC and log loss of the bundle's model.onnx, run in ONNX Runtime.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a bundle's AUC and log loss on labelled data, running model.onnx in ONNX Runtime.",
        discussion: """
            Evaluation runs what is served: the bundle's features.json encodes the rows and model.onnx \
            predicts through ONNX Runtime. With --truth (synthetic data writes FILE.truth, picked up \
            automatically) it also prints the oracle AUC of the true click probabilities. --data is read \
            as the bundle's training data was (features.json records the layout); --dataset-config reads it \
            with that config's separator and header or column names instead.
            """)

    @Argument(help: "Model bundle directory (model.onnx, features.json).")
    var bundle: String

    @Option(help: "Labelled data file, laid out as the bundle's training data (features.json records it).")
    var data: String

    @OptionGroup var layout: DatasetOptions

    @Option(help: "True probabilities, one per data row (default: DATA.truth when it exists).")
    var truth: String?

    @Option(help: "Write each row's predicted probability to this file, one per line in row order.")
    var predictions: String?

    @Option(help: "Write a self-contained HTML page: ROC curve, calibration plot, the numbers and model.json's training curves.")
    var report: String?

    @Option(help: "Rows per ONNX Runtime call.") var batchSize = 4096
    @Option(help: "Evaluate at most this many rows.") var maxRows: Int?
    @Option(name: [.customLong("intra-threads"), .customLong("threads")],
            help: "ONNX Runtime threads inside one Run, as serve's --intra-threads (--threads: the old name, deprecated).") var threads = 2
    @OptionGroup var runtimeOptions: RuntimeOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let maxRows, maxRows < 1 { throw ValidationError("--max-rows must be positive, got \(maxRows)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
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
