import Foundation

/// `clickwise evaluate --report FILE.html`: one self-contained page (inline SVG and CSS, no script, no network)
/// with the ROC curve, a reliability (calibration) plot, the numbers, and the training curves of model.json.
public struct QualityReportPage {
    /// One calibration bucket: rows whose predictions fall in it, their mean prediction and observed click rate.
    public struct Bucket: Sendable, Equatable {
        public var rows: Int
        public var meanPrediction: Double
        public var observedRate: Double
    }

    /// What the page shows about the model.
    public var title: String
    /// The evaluated file.
    public var dataPath: String
    /// Metrics over the file.
    public var report: EvaluationReport
    /// The model's card (training curves, configuration), when the bundle has model.json.
    public var card: ModelCard?
    /// ROC points (false-positive rate, true-positive rate), from (0, 0) to (1, 1).
    public let roc: [(Double, Double)]
    /// Calibration buckets by predicted probability (equal row counts), lowest first.
    public let buckets: [Bucket]
    /// Expected calibration error: the row-weighted mean |prediction − observed| over the buckets.
    public let calibrationError: Double

    /// Computes the curves from labels and predicted probabilities (same order, same length).
    public init(title: String, dataPath: String, report: EvaluationReport, card: ModelCard?, labels: [Float], scores: [Float],
                bucketCount: Int = 10) {
        precondition(labels.count == scores.count, "labels and scores differ in length")
        self.title = title
        self.dataPath = dataPath
        self.report = report
        self.card = card
        roc = Self.rocCurve(labels: labels, scores: scores)
        buckets = Self.calibration(labels: labels, scores: scores, count: bucketCount)
        let total = Double(max(labels.count, 1))
        calibrationError = buckets.reduce(0) { $0 + Double($1.rows) / total * abs($1.meanPrediction - $1.observedRate) }
    }

    /// ROC points at every distinct threshold, thinned to at most `maxPoints` (ties move diagonally).
    static func rocCurve(labels: [Float], scores: [Float], maxPoints: Int = 400) -> [(Double, Double)] {
        let positives = Double(labels.filter { $0 > 0.5 }.count), negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return [(0, 0), (1, 1)] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(Double, Double)] = [(0, 0)]
        var tp = 0.0, fp = 0.0, i = 0
        while i < order.count {
            let threshold = scores[order[i]]
            while i < order.count && scores[order[i]] == threshold {
                if labels[order[i]] > 0.5 { tp += 1 } else { fp += 1 }
                i += 1
            }
            points.append((fp / negatives, tp / positives))
        }
        guard points.count > maxPoints else { return points }
        let step = Double(points.count - 1) / Double(maxPoints - 1)
        return (0..<maxPoints).map { points[min(points.count - 1, Int((Double($0) * step).rounded()))] }
    }

    /// Equal-count buckets by predicted probability.
    static func calibration(labels: [Float], scores: [Float], count: Int) -> [Bucket] {
        guard !scores.isEmpty else { return [] }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        let buckets = min(count, order.count)
        return (0..<buckets).map { b in
            let range = (b * order.count / buckets)..<((b + 1) * order.count / buckets)
            var predicted = 0.0, clicks = 0.0
            for index in range {
                predicted += Double(scores[order[index]])
                clicks += Double(labels[order[index]])
            }
            let n = Double(range.count)
            return Bucket(rows: range.count, meanPrediction: predicted / n, observedRate: clicks / n)
        }
    }

    /// The page.
    public func html() -> String {
        func number(_ value: Double?, _ digits: Int = 5) -> String {
            guard let value, value.isFinite else { return "n/a" }
            return String(format: "%.\(digits)f", value)
        }
        var metrics: [(String, String)] = [
            ("rows", "\(report.rows)" + (report.malformedLines > 0 ? " (\(report.malformedLines) malformed lines skipped)" : "")),
            ("AUC", number(report.auc)), ("logloss", number(report.logLoss)),
            ("positive rate", number(report.positiveRate, 4)), ("mean prediction", number(report.meanPrediction, 4)),
            ("calibration error (ECE, 10 buckets)", number(calibrationError, 4)),
        ]
        if report.oracleAUC != nil {
            metrics.append(("oracle AUC (true probabilities)", number(report.oracleAUC)))
            metrics.append(("oracle logloss", number(report.oracleLogLoss)))
        }
        if let card {
            metrics.append(("architecture", card.architecture.rawValue))
            metrics.append(("best epoch", "\(card.bestEpoch) of \(card.epochs.count)"))
            metrics.append(("validation AUC (best epoch)", number(card.validationAUC)))
            if let source = card.configuration.modelConfigSource { metrics.append(("model config", source)) }
        }
        let table = metrics.map { "<tr><th>\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }.joined(separator: "\n")
        var sections = [
            Self.figure(id: "roc", title: "ROC curve (AUC \(number(report.auc, 4)))",
                        svg: rocSVG(), caption: "True-positive rate against false-positive rate over every threshold; the diagonal is a coin."),
            Self.figure(id: "calibration", title: "Calibration (reliability)",
                        svg: calibrationSVG(),
                        caption: "Observed click rate against mean prediction in 10 buckets of equal rows; a calibrated model lies on the diagonal."),
        ]
        if let card, !card.epochs.isEmpty {
            sections.append(Self.figure(id: "training", title: "Training curves",
                                        svg: trainingSVG(card.epochs),
                                        caption: "Per epoch: training and validation logloss on the axis; validation AUC (green) on its own scale, given in the legend."))
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body { font-family: -apple-system, "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; background: #fff; }
            h1 { font-size: 22px; margin: 0 0 4px; } .sub { color: #666; margin: 0 0 16px; font-size: 13px; }
            table.metrics { border-collapse: collapse; margin-bottom: 16px; font-size: 14px; }
            table.metrics th { text-align: left; font-weight: normal; color: #555; padding: 3px 16px 3px 0; }
            table.metrics td { font-variant-numeric: tabular-nums; padding: 3px 0; }
            .figures { display: flex; flex-wrap: wrap; gap: 24px; }
            figure { margin: 0; } figcaption { font-size: 12px; color: #666; max-width: 420px; }
            h2 { font-size: 15px; margin: 8px 0; }
            svg text { font-size: 11px; fill: #444; }
            </style></head>
            <body>
            <h1>\(Self.escape(title))</h1>
            <p class="sub">\(Self.escape(dataPath)) · written by clickwise evaluate</p>
            <table class="metrics">
            \(table)
            </table>
            <div class="figures">
            \(sections.joined(separator: "\n"))
            </div>
            </body></html>

            """
    }

    // MARK: - SVG

    private static let size = 360.0, margin = 40.0

    private static func figure(id: String, title: String, svg: String, caption: String) -> String {
        "<figure id=\"\(id)\"><h2>\(escape(title))</h2>\(svg)<figcaption>\(escape(caption))</figcaption></figure>"
    }

    /// A square plot frame with ticks at 0, 0.5, 1 on both axes; `body` gets a point mapper.
    private static func frame(xLabel: String, yLabel: String, xTicks: [String]? = nil, yTicks: [String]? = nil, diagonal: Bool = true,
                              body: ((Double, Double) -> (Double, Double)) -> String) -> String {
        let s = size, m = margin, inner = s - 2 * m
        let map: (Double, Double) -> (Double, Double) = { x, y in (m + x * inner, s - m - y * inner) }
        var ticks = ""
        for (index, t) in [0.0, 0.5, 1.0].enumerated() {
            let (x, _) = map(t, 0), (_, y) = map(0, t)
            ticks += "<text x=\"\(fmt(x))\" y=\"\(fmt(s - m + 14))\" text-anchor=\"middle\">\(xTicks?[index] ?? "\(t)")</text>"
            ticks += "<text x=\"\(fmt(m - 4))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(yTicks?[index] ?? "\(t)")</text>"
        }
        let diagonalLine = diagonal
            ? "<line class=\"diagonal\" x1=\"\(fmt(m))\" y1=\"\(fmt(s - m))\" x2=\"\(fmt(s - m))\" y2=\"\(fmt(m))\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>"
            : ""
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(s))" height="\(Int(s))" viewBox="0 0 \(Int(s)) \(Int(s))">\
            <rect x="\(fmt(m))" y="\(fmt(m))" width="\(fmt(inner))" height="\(fmt(inner))" fill="#fafafa" stroke="#bbb"/>\
            \(diagonalLine)\(ticks)\
            <text x="\(fmt(s / 2))" y="\(fmt(s - 6))" text-anchor="middle">\(escape(xLabel))</text>\
            <text x="9" y="\(fmt(s / 2))" text-anchor="middle" transform="rotate(-90 9 \(fmt(s / 2)))">\(escape(yLabel))</text>\
            \(body(map))</svg>
            """
    }

    private func rocSVG() -> String {
        Self.frame(xLabel: "false-positive rate", yLabel: "true-positive rate") { map in
            let points = roc.map { map($0.0, $0.1) }.map { "\(Self.fmt($0.0)),\(Self.fmt($0.1))" }.joined(separator: " ")
            return "<polyline class=\"roc\" points=\"\(points)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>"
        }
    }

    private func calibrationSVG() -> String {
        // Both axes span [0, top] so small click rates are readable; top is the largest value rounded up to 0.1.
        let top = min(1, max(0.1, ((buckets.map { max($0.meanPrediction, $0.observedRate) }.max() ?? 1) * 10).rounded(.up) / 10))
        return Self.frame(xLabel: "mean prediction (axis to \(top))", yLabel: "observed click rate") { map in
            var marks = ""
            for bucket in buckets {
                let (x, y) = map(bucket.meanPrediction / top, bucket.observedRate / top)
                marks += "<circle class=\"bucket\" cx=\"\(Self.fmt(x))\" cy=\"\(Self.fmt(y))\" r=\"5\" fill=\"#d62728\"><title>\(bucket.rows) rows: predicted \(String(format: "%.4f", bucket.meanPrediction)), observed \(String(format: "%.4f", bucket.observedRate))</title></circle>"
            }
            let path = buckets.map { map($0.meanPrediction / top, $0.observedRate / top) }.map { "\(Self.fmt($0.0)),\(Self.fmt($0.1))" }
                .joined(separator: " ")
            return "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1\"/>" + marks
        }
    }

    private func trainingSVG(_ epochs: [EpochReport]) -> String {
        let losses = epochs.flatMap { [$0.trainLogLoss, $0.validationLogLoss] }.filter(\.isFinite)
        let low = (losses.min() ?? 0) * 0.95, high = (losses.max() ?? 1) * 1.05
        let aucs = epochs.compactMap(\.validationAUC)
        let aucLow = (aucs.min() ?? 0.5) - 0.01, aucHigh = (aucs.max() ?? 1) + 0.01
        let n = max(epochs.count - 1, 1)
        let middle = (low + high) / 2
        return Self.frame(xLabel: "epoch", yLabel: "logloss", xTicks: ["1", String(format: "%.1f", 1 + Double(n) / 2), "\(epochs.count)"],
                          yTicks: [low, middle, high].map { String(format: "%.3f", $0) }, diagonal: false) { map in
            func line(_ values: [Double?], low: Double, high: Double, css: String, color: String) -> String {
                let points = values.enumerated().compactMap { index, value -> String? in
                    guard let value, value.isFinite else { return nil }
                    let (x, y) = map(Double(index) / Double(n), (value - low) / max(high - low, 1e-12))
                    return "\(Self.fmt(x)),\(Self.fmt(y))"
                }
                return "<polyline class=\"\(css)\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            }
            let legend = "<text x=\"48\" y=\"16\" style=\"fill:#1f77b4\">train logloss</text><text x=\"140\" y=\"16\" style=\"fill:#ff7f0e\">valid logloss</text>"
                + "<text x=\"230\" y=\"16\" style=\"fill:#2ca02c\">valid AUC \(String(format: "%.3f", aucLow))–\(String(format: "%.3f", aucHigh))</text>"
            return line(epochs.map(\.trainLogLoss), low: low, high: high, css: "train-loss", color: "#1f77b4")
                + line(epochs.map(\.validationLogLoss), low: low, high: high, css: "valid-loss", color: "#ff7f0e")
                + line(epochs.map(\.validationAUC), low: aucLow, high: aucHigh, css: "valid-auc", color: "#2ca02c") + legend
        }
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
