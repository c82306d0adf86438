import ArgumentParser
import CTRData
import Foundation

extension BenchCommand {
    /// Parse-only read throughput of ``CSVReader`` (or ``CriteoReader``) on any file, in this build's mode.
    struct CSVRead: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv-read",
            abstract: "Rows/s of parsing a CSV (or, with --criteo, a Criteo TSV) file, touching every field.",
            shouldDisplay: false)

        @Option(help: "The data file.")
        var data: String

        @OptionGroup var csv: CSVOptions

        @Flag(help: "Read the file with CriteoReader (Criteo TSV, label first) instead of CSVReader.")
        var criteo = false

        @Option(help: "Passes over the file; the best is reported.")
        var passes: Int = 3

        func validate() throws {
            guard passes >= 1 else { throw ValidationError("--passes must be positive.") }
        }

        func run() throws {
            var best = Double.infinity
            var rows = 0
            var checksum = 0
            for _ in 0..<passes {
                let start = ContinuousClock.now
                if criteo {
                    let reader = try CriteoReader(path: data)
                    rows = try reader.forEachRow { view in
                        for field in 0..<26 { checksum &+= view.categoricalUTF8(field)?.count ?? 0 }
                    }.rowsRead
                } else {
                    let reader = try CSVReader(path: data, separator: try csv.separatorByte)
                    rows = try reader.forEachRow { view in
                        for column in 0..<view.columnCount { checksum &+= view.field(column)?.count ?? 0 }
                    }.rowsRead
                }
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: data)[.size] as? Int) ?? 0
            print("\(criteo ? "CriteoReader" : "CSVReader") \(data): \(rows) rows, best of \(passes) passes \(String(format: "%.3f", best)) s = \(Int(Double(rows) / best)) rows/s, \(String(format: "%.0f", Double(bytes) / best / 1e6)) MB/s (checksum \(checksum))")
        }
    }
}
