import CTRData
import CTRModels
import Foundation

/// Shows training progress: a rewritten status line on a terminal, plain log lines every 10 s otherwise.
final class TrainingProgressPrinter {
    private let interactive: Bool
    private var lastLogged = ContinuousClock.now
    private var statusShown = false

    init(interactive: Bool) { self.interactive = interactive }

    func handle(_ event: TrainingEvent) {
        switch event {
        case let .fittedFeatureMap(rows, vocabulary, seconds):
            emit("feature map: \(rows) training rows, \(vocabulary) embedding rows (\(String(format: "%.1f", seconds)) s)")
        case let .skippedLines(path, stats):
            emit("skipped \(stats.malformedCount) malformed lines of \(path): " + stats.malformedSamples.prefix(3).map(\.description).joined(separator: "; ")
                 + (stats.malformedCount > 3 ? "; ..." : ""))
        case let .progress(p):
            let line = String(format: "epoch %d  %d/%d rows  %.0f rows/s  loss %.5f  ETA %@",
                              p.epoch, p.rows, p.expectedRows, p.rowsPerSecond, p.loss, Self.duration(p.etaSeconds))
            if interactive {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                statusShown = true
            } else if lastLogged.duration(to: .now) >= .seconds(10) {
                lastLogged = .now
                emit(line)
            }
        case let .epochFinished(r):
            emit(String(format: "epoch %d: train logloss %.5f, validation AUC %@ logloss %.5f, %.0f rows/s, %.1f s",
                        r.epoch, r.trainLogLoss, formatMetric(r.validationAUC), r.validationLogLoss, r.rowsPerSecond, r.trainSeconds))
        case let .learningRateReduced(rate):
            emit("validation did not improve: learning rate reduced to \(rate)")
        case let .stoppedEarly(bestEpoch):
            emit("stopping early: the monitored validation metric has not improved since epoch \(bestEpoch)")
        }
    }

    private func emit(_ line: String) {
        if statusShown {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            statusShown = false
        }
        logLine(line)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
