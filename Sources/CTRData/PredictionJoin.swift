import Foundation

/// Turns a prediction log (`serve --prediction-log`) and the clicks that followed into training rows
/// (`clickwise data join`): a served row clicked within the window is a positive, one not clicked a negative.
///
/// Clicks are a CSV with a header naming `request_id`, the click time (`timestamp_ms`, milliseconds since the epoch,
/// or `timestamp`, seconds), and which candidate was clicked: `index` (the log's row or candidate index) or the
/// value of a field the log records (`--item-field`, e.g. `adgroup_id`). The log is streamed; only the clicks are held
/// in memory. Every column of the log is kept (a training config reads its schema columns by name and ignores the
/// others) and the label is appended. A click after the window is counted, not used; a click on a request the log
/// does not hold is counted; lines that do not parse (a torn last line) are skipped and counted.
public enum PredictionJoin {
    /// What a join found.
    public struct Report: Sendable, Equatable {
        /// Served rows written, and how many of them are positives.
        public var rows = 0
        public var positives = 0
        /// Clicks read, used (made a row positive), late (after the window), before their prediction, and on a
        /// request or candidate the log does not hold.
        public var clicks = 0
        public var clicksUsed = 0
        public var lateClicks = 0
        public var earlyClicks = 0
        public var unknownClicks = 0
        /// Log files read, and their lines that did not parse.
        public var files = 0
        public var malformedLines = 0
    }

    private struct Key: Hashable {
        let request: String
        let candidate: String
    }

    /// Joins the `predictions-*.csv` files in `predictions` (a model's log directory) with `clicks` into `output`,
    /// labelling with `label`; errors name the file and line.
    public static func join(predictions: String, clicks: String, output: String, label: String = "clk", windowSeconds: Double,
                            itemField: String? = nil) throws(CTRDataError) -> Report {
        var header: [String]?
        var firstFile = ""
        var out: [UInt8] = []
        let report = try forEachLabelledRow(
            predictions: [predictions], clicks: clicks, windowSeconds: windowSeconds, itemField: itemField,
            file: { (reader: CSVReader) throws(CTRDataError) in
                guard let header else {
                    header = reader.header
                    firstFile = (reader.path as NSString).lastPathComponent
                    guard !reader.header.contains(label) else {
                        throw CTRDataError(.invalidHeader, path: reader.path, detail: "the log already has a \(label) column; pick another --label")
                    }
                    out += Array((reader.header + [label]).map(escaped).joined(separator: ",").utf8)
                    out.append(0x0A)
                    return
                }
                // One output file has one header: a schema change needs its own join.
                guard reader.header == header else {
                    throw CTRDataError(.invalidHeader, path: reader.path, detail: "its columns differ from \(firstFile)'s (a schema change: join each model version's files apart)")
                }
            },
            row: { row, clicked in
                for column in 0..<row.columnCount {
                    if column > 0 { out.append(UInt8(ascii: ",")) }
                    if let field = row.field(column) { out += escaped(Array(field)) }
                }
                out += clicked ? Array(",1\n".utf8) : Array(",0\n".utf8)
            })
        do {
            try Data(out).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CTRDataError(.writeFailed, path: output, detail: error.localizedDescription)
        }
        return report
    }

    /// Streams every served row of the `predictions-*.csv` files in the `predictions` directories with its label: the
    /// join's rules, shared by `data join` (which writes the rows) and `evaluate --clicks` (which scores them).
    ///
    /// `file` sees each log file's reader before its rows (to check or locate columns; what it throws stops the join),
    /// `row` each well-formed row and whether it was clicked within the window. Files are read in name order within
    /// each directory.
    public static func forEachLabelledRow(
        predictions: [String], clicks: String, windowSeconds: Double, itemField: String? = nil,
        file: (CSVReader) throws(CTRDataError) -> Void, row body: (CSVRowView, Bool) -> Void
    ) throws(CTRDataError) -> Report {
        var report = Report()
        let candidateName = itemField ?? "index"
        let clickTimes = try readClicks(clicks, candidateName: candidateName, itemField: itemField, report: &report)
        var paths: [String] = []
        for directory in predictions {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("predictions-") && $0.hasSuffix(".csv") }.sorted()
            } catch {
                throw CTRDataError(.fileNotFound, path: directory, detail: "cannot list the prediction log: \(error.localizedDescription)")
            }
            guard !names.isEmpty else { throw CTRDataError(.fileNotFound, path: directory, detail: "no predictions-*.csv files (pass a model's log directory, DIR/<model>)") }
            paths += names.map { (directory as NSString).appendingPathComponent($0) }
        }
        let window = Int64(windowSeconds * 1000)
        var servedAt: [Key: Int64] = [:]
        for path in paths {
            let reader = try CSVReader(path: path)
            report.files += 1
            try file(reader)
            guard let request = reader.column(named: "request_id"), let served = reader.column(named: "timestamp_ms"),
                  let candidate = reader.column(named: candidateName) else {
                throw CTRDataError(.columnNotFound, path: path, detail: "request_id, timestamp_ms and \(candidateName) must be columns of the log")
            }
            let stats = try reader.forEachRow { row in
                guard let id = row.string(request), let at = row.string(served).flatMap({ Int64($0) }), let which = row.string(candidate) else {
                    report.malformedLines += 1
                    return
                }
                let key = Key(request: id, candidate: which)
                var clicked = false
                if let times = clickTimes[key] {
                    servedAt[key] = at
                    clicked = times.contains { $0 >= at && $0 - at <= window }
                }
                body(row, clicked)
                report.rows += 1
                if clicked { report.positives += 1 }
            }
            if let failure = stats.ioError { throw failure }
            report.malformedLines += stats.malformedCount
        }
        // Every click is used, late, early or unknown, now that the served times are known.
        for (key, times) in clickTimes {
            guard let at = servedAt[key] else {
                report.unknownClicks += times.count
                continue
            }
            for time in times {
                if time < at { report.earlyClicks += 1 } else if time - at <= window { report.clicksUsed += 1 } else { report.lateClicks += 1 }
            }
        }
        return report
    }

    /// The clicks file as (request, candidate) → click times in ms; counts them in `report`.
    private static func readClicks(_ clicks: String, candidateName: String, itemField: String?,
                                   report: inout Report) throws(CTRDataError) -> [Key: [Int64]] {
        let clickReader = try CSVReader(path: clicks)
        guard let requestColumn = clickReader.column(named: "request_id") else {
            throw CTRDataError(.columnNotFound, path: clicks, detail: "request_id is not in the header (\(clickReader.header.joined(separator: ", ")))")
        }
        let timeColumn = clickReader.column(named: "timestamp_ms"), secondsColumn = clickReader.column(named: "timestamp")
        guard timeColumn != nil || secondsColumn != nil else {
            throw CTRDataError(.columnNotFound, path: clicks, detail: "neither timestamp_ms nor timestamp is in the header")
        }
        guard let candidateColumn = clickReader.column(named: candidateName) else {
            throw CTRDataError(.columnNotFound, path: clicks, detail: "\(candidateName) is not in the header (\(itemField == nil ? "name the clicked candidate by index, or pass --item-field" : "--item-field"))")
        }
        var clickTimes: [Key: [Int64]] = [:]
        var badClick: (line: Int, reason: String)?
        var count = 0
        let clickStats = try clickReader.forEachRow { row in
            guard let request = row.string(requestColumn), let candidate = row.string(candidateColumn) else {
                if badClick == nil { badClick = (row.lineNumber, "request_id and \(candidateName) must not be empty") }
                return
            }
            let time: Int64?
            if let timeColumn { time = row.string(timeColumn).flatMap { Int64($0) } } else { time = row.string(secondsColumn!).flatMap { Double($0) }.map { Int64($0 * 1000) } }
            guard let time else {
                if badClick == nil { badClick = (row.lineNumber, "the click time is not a number") }
                return
            }
            clickTimes[Key(request: request, candidate: candidate), default: []].append(time)
            count += 1
        }
        if let failure = clickStats.ioError { throw failure }
        if let badClick { throw CTRDataError(.invalidArgument, path: clicks, detail: "line \(badClick.line): \(badClick.reason)") }
        if let bad = clickStats.malformedSamples.first { throw CTRDataError(.invalidArgument, path: clicks, detail: "\(bad)") }
        report.clicks += count
        return clickTimes
    }

    private static func escaped(_ text: String) -> String {
        String(decoding: escaped(Array(text.utf8)), as: UTF8.self)
    }

    private static func escaped(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return bytes }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// `30m`, `2h`, `90s`, `1d` or plain seconds, as seconds; nil when it is none of these.
    public static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = text.last, let unit = units[last], let value = Double(text.dropLast()), value > 0 { return value * unit }
        if let value = Double(text), value > 0 { return value }
        return nil
    }
}
