import CTRData
import CTRFeatures
import Foundation

/// Streams a labelled data file through a predictor and measures AUC and log loss (and the oracle's).
public enum Evaluator {
    /// Evaluates `predictor` on `dataPath`, read with `dataset` (default: the layout the map was trained on);
    /// `truthPath` holds one true probability per data row; `predictionsPath`, when given, receives each
    /// row's predicted probability, one per line in row order (to compare with a server's answers).
    public static func evaluate(
        dataPath: String, truthPath: String? = nil, dataset: DatasetConfig? = nil, encoder: FeatureEncoder,
        predictor: some BatchPredictor, batchSize: Int = 4096, maxRows: Int? = nil, predictionsPath: String? = nil
    ) throws(CTRModelsError) -> EvaluationReport {
        try evaluateKeepingScores(dataPath: dataPath, truthPath: truthPath, dataset: dataset, encoder: encoder, predictor: predictor,
                                  batchSize: batchSize, maxRows: maxRows, predictionsPath: predictionsPath).report
    }

    /// As ``evaluate(dataPath:truthPath:dataset:encoder:predictor:batchSize:maxRows:predictionsPath:)``, also returning
    /// every row's label and predicted probability (for the quality report's curves).
    public static func evaluateKeepingScores(
        dataPath: String, truthPath: String? = nil, dataset: DatasetConfig? = nil, encoder: FeatureEncoder,
        predictor: some BatchPredictor, batchSize: Int = 4096, maxRows: Int? = nil, predictionsPath: String? = nil
    ) throws(CTRModelsError) -> (report: EvaluationReport, labels: [Float], scores: [Float]) {
        let start = ContinuousClock.now
        let reader = try Trainer.open(dataPath, dataset ?? encoder.map.datasetConfig)
        let truth = try truthPath.map { (path) throws(CTRModelsError) in try readTruth(path) }
        let batch = BatchBuffer(capacity: max(1, batchSize), sparseFields: encoder.categoricalCount,
                                denseFields: encoder.numericCount, sequenceLength: encoder.sequenceWidth)
        let output = FloatBuffer(count: batch.capacity)
        var labels: [Float] = [], scores: [Float] = []
        var failure: (any Error)?
        func flush() {
            guard failure == nil, batch.count > 0 else { return }
            do {
                try predictor.predict(batch, into: output.pointer)
            } catch {
                // Empty the batch all the same: rows appended after a failed flush would otherwise land past its end
                // (issue 21: a model refusing its inputs turned into a write out of bounds on files over one batch).
                failure = error
                batch.count = 0
                return
            }
            for i in 0..<batch.count {
                labels.append(batch.labels[i])
                scores.append(output[i])
            }
            batch.count = 0
        }
        let stats: ReadStats
        do {
            stats = try reader.forEachRow(limit: maxRows ?? .max) { row in
                guard failure == nil else { return }
                batch.append(row, encoder: encoder)
                if batch.isFull { flush() }
            }
        } catch {
            throw .cannotRead(path: dataPath, reason: error.detail)
        }
        flush()
        if let failure { throw .predictionFailed("\(failure)") }
        guard !labels.isEmpty else { throw .noData(path: dataPath) }

        var oracleAUC: Double?, oracleLogLoss: Double?
        if let truth, let truthPath {
            // Truth lines pair with data lines; a skipped malformed line would shift every pair after it.
            guard stats.malformedCount == 0 else {
                throw .mismatch("\(dataPath) has \(stats.malformedCount) malformed lines, so \(truthPath) no longer lines up with its rows")
            }
            guard truth.count >= labels.count else {
                throw .mismatch("\(truthPath) has \(truth.count) probabilities but \(dataPath) has \(labels.count) rows")
            }
            let aligned = Array(truth.prefix(labels.count))
            oracleAUC = BinaryMetrics.auc(labels: labels, scores: aligned)
            oracleLogLoss = BinaryMetrics.logLoss(labels: labels, probabilities: aligned)
        }
        if let predictionsPath {
            var text = ""
            text.reserveCapacity(scores.count * 12)
            for score in scores { text += "\(score)\n" }
            do {
                try text.write(toFile: predictionsPath, atomically: true, encoding: .utf8)
            } catch {
                throw .cannotWrite(path: predictionsPath, reason: error.localizedDescription)
            }
        }
        let positives = labels.reduce(0.0) { $0 + Double($1) }
        let predicted = scores.reduce(0.0) { $0 + Double($1) }
        let report = EvaluationReport(
            rows: labels.count, malformedLines: stats.malformedCount,
            malformedSamples: stats.malformedSamples.isEmpty ? nil : stats.malformedSamples.prefix(3).map(\.description),
            auc: BinaryMetrics.auc(labels: labels, scores: scores),
            logLoss: BinaryMetrics.logLoss(labels: labels, probabilities: scores),
            positiveRate: positives / Double(labels.count), meanPrediction: predicted / Double(labels.count),
            oracleAUC: oracleAUC, oracleLogLoss: oracleLogLoss, seconds: start.duration(to: .now).seconds)
        return (report, labels, scores)
    }

    /// One probability per line.
    static func readTruth(_ path: String) throws(CTRModelsError) -> [Float] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .cannotRead(path: path, reason: (error as NSError).localizedDescription)
        }
        var values: [Float] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let value = Float(line), value >= 0, value <= 1 else {
                throw .cannotRead(path: path, reason: "line \(number + 1) is not a probability: \"\(line.prefix(40))\"")
            }
            values.append(value)
        }
        return values
    }
}
