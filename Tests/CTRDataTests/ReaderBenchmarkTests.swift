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
}
