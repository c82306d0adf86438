import CTRFeatures
import Foundation
import Testing
@testable import CTRData

/// Prints reader throughput; not a timed assertion. Meaningful only in a release build on a big file:
/// `clickwise data synth --rows 1000000 --out /tmp/s.tsv`, then
/// `CLICKWISE_BENCH_FILE=/tmp/s.tsv swift test -c release -Xswiftc -enable-testing --filter ReaderBenchmark`.
/// Without the variable it runs the same code on a small generated file.
@Suite struct ReaderBenchmarkTests {
    @Test func readerThroughput() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path: String
        if let file = ProcessInfo.processInfo.environment["CLICKWISE_BENCH_FILE"] {
            path = file
        } else {
            path = try writeFile((0..<2_000).map { sampleLine($0) }.joined(separator: "\n"), in: directory)
        }
        let reader = try CriteoReader(path: path)

        func measure(_ name: String, _ pass: () throws -> Int) rethrows {
            let start = ContinuousClock.now
            let rows = try pass()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("\(name): \(rows) rows in \(String(format: "%.2f", seconds)) s = \(Int(Double(rows) / seconds)) rows/s")
        }

        var checksum: Int64 = 0
        try measure("forEachRow, parse only") {
            try reader.forEachRow { view in checksum &+= view.dense(0) ?? 0 }.rowsRead
        }
        var builder = FeatureMapBuilder()
        try measure("forEachRow + FeatureMapBuilder (fit)") {
            try reader.forEachRow { view in view.add(to: &builder) }.rowsRead
        }
        let encoder = FeatureEncoder(map: builder.build())
        let ids = UnsafeMutablePointer<Int64>.allocate(capacity: 26)
        let dense = UnsafeMutablePointer<Float>.allocate(capacity: 13)
        defer {
            ids.deallocate()
            dense.deallocate()
        }
        try measure("forEachRow + encode (training path)") {
            try reader.forEachRow { view in
                view.encode(with: encoder, ids: ids, dense: dense)
                checksum &+= ids[25]
            }.rowsRead
        }
        measure("Sequence of RawRow (allocating)") {
            var rows = 0
            for row in reader {
                rows += 1
                checksum &+= Int64(row.dense[0] ?? 0)
            }
            return rows
        }
        print("vocabulary \(encoder.map.totalVocabularySize) ids, checksum \(checksum)")
        #expect(reader.stats.malformedCount == 0)
    }

    /// The same Criteo-shaped rows read as TSV by ``CriteoReader`` and as a comma CSV with a header by
    /// ``CSVReader``, parse only; `CLICKWISE_BENCH_ROWS` sets the row count (default 20,000).
    /// For release numbers use `clickwise bench csv-read --data FILE [--criteo]`.
    @Test func csvReaderThroughputBesideCriteoReader() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let count = ProcessInfo.processInfo.environment["CLICKWISE_BENCH_ROWS"].flatMap { Int($0) } ?? 20_000
        let lines = (0..<count).map { sampleLine($0) }
        let tsv = try writeFile(lines.joined(separator: "\n") + "\n", named: "rows.tsv", in: directory)
        let header = (["label"] + CriteoSchema.denseNames + CriteoSchema.categoricalNames).joined(separator: ",")
        let csvText = header + "\n" + lines.map { $0.replacingOccurrences(of: "\t", with: ",") }.joined(separator: "\n") + "\n"
        let csv = try writeFile(csvText, named: "rows.csv", in: directory)

        func measure(_ name: String, _ pass: () throws -> Int) rethrows {
            let start = ContinuousClock.now
            let rows = try pass()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("\(name): \(rows) rows in \(String(format: "%.2f", seconds)) s = \(Int(Double(rows) / seconds)) rows/s")
        }

        var checksum = 0
        let criteo = try CriteoReader(path: tsv)
        try measure("CriteoReader TSV, parse only (40 fields)") {
            try criteo.forEachRow { view in checksum &+= view.categoricalUTF8(0)?.count ?? 0 }.rowsRead
        }
        let reader = try CSVReader(path: csv)
        try measure("CSVReader CSV, parse only (40 fields)") {
            try reader.forEachRow { view in checksum &+= view.field(14)?.count ?? 0 }.rowsRead
        }
        print("checksum \(checksum)")
        #expect(criteo.stats.rowsRead == count)
        #expect(reader.stats.rowsRead == count)
        #expect(reader.stats.malformedCount == 0)
    }
}
