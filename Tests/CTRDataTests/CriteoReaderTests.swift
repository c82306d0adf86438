import CTRFeatures
import Foundation
import Testing
@testable import CTRData

@Suite struct CriteoReaderTests {
    @Test func readsGoodRowsWithMissingValues() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var dense = Array(repeating: "", count: 13)
        dense[0] = "5"; dense[1] = "-1"; dense[12] = "123456789012"
        var categorical = Array(repeating: "", count: 26)
        categorical[0] = "68fd1e64"; categorical[25] = "c9d4222a"
        let text = line(label: "0", dense: dense, categorical: categorical) + "\n" + line(label: "1") + "\n"
        let reader = try CriteoReader(path: writeFile(text, in: directory))
        let rows = Array(reader)
        #expect(rows.count == 2)
        #expect(rows[0].label == 0)
        #expect(rows[0].dense[0] == 5)
        #expect(rows[0].dense[1] == -1)
        #expect(rows[0].dense[2] == nil)
        #expect(rows[0].dense[12] == 123_456_789_012)
        #expect(rows[0].categorical[0] == "68fd1e64")
        #expect(rows[0].categorical[1] == nil)
        #expect(rows[0].categorical[25] == "c9d4222a")
        #expect(rows[1].label == 1)
        #expect(rows[1].dense.allSatisfy { $0 == nil })
        #expect(rows[1].categorical.allSatisfy { $0 == nil })
        #expect(reader.stats.rowsRead == 2)
        #expect(reader.stats.malformedCount == 0)
    }

    @Test func splitsOnlyOnTabsWhateverTheNeighbouringBytes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Bytes one away from a tab (0x08, 0x0A-free), high bytes and runs of empty fields around word edges.
        let odd = ["\u{8}", "\u{8}\u{8}x", "\u{1}", "é", "\u{7F}", "ab\u{8}", "", "", "xyz"]
        var categorical = Array(repeating: "", count: 26)
        for (i, value) in odd.enumerated() { categorical[i * 2] = value }
        let text = line(categorical: categorical) + "\n"
        let rows = Array(try CriteoReader(path: writeFile(text, in: directory)))
        #expect(rows.count == 1)
        #expect(rows.first?.categorical == categorical.map { $0.isEmpty ? nil : $0 })
    }

    @Test func countsMalformedLinesWithLineNumbersAndReasons() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var badInteger = Array(repeating: "", count: 13)
        badInteger[2] = "1.5"
        var overflow = Array(repeating: "", count: 13)
        overflow[0] = "99999999999999999999"
        let lines = [
            sampleLine(1),                                   // 1 good
            "1\t2\t3",                                       // 2 too few fields
            line(label: "2"),                                // 3 bad label
            sampleLine(4),                                   // 4 good
            line(dense: badInteger),                         // 5 non-integer I3
            line() + "\textra",                              // 6 too many fields
            "",                                              // 7 blank: skipped, not malformed
            line(dense: overflow),                           // 8 out of range
            line(label: ""),                                 // 9 empty label
            sampleLine(10),                                  // 10 good
        ]
        let reader = try CriteoReader(path: writeFile(lines.joined(separator: "\n") + "\n", in: directory))
        let rows = Array(reader)
        #expect(rows.count == 3)
        let stats = reader.stats
        #expect(stats.rowsRead == 3)
        #expect(stats.malformedCount == 6)
        #expect(stats.blankLineCount == 1)
        #expect(stats.linesRead == 10)
        #expect(stats.malformedSamples.map(\.lineNumber) == [2, 3, 5, 6, 8, 9])
        #expect(stats.malformedSamples[0].reason == "expected 40 tab-separated fields, found 3")
        #expect(stats.malformedSamples[1].reason.contains("label is \"2\""))
        #expect(stats.malformedSamples[2].reason.contains("I3 is \"1.5\""))
        #expect(stats.malformedSamples[3].reason.contains("found 41"))
        #expect(stats.malformedSamples[4].reason.contains("I1"))
        #expect(stats.description.contains("line 5: I3"))
    }

    @Test func keepsOnlyTheFirstFewReasonsButCountsAll() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = (0..<25).map { _ in "garbage" }.joined(separator: "\n")
        let reader = try CriteoReader(path: writeFile(text, in: directory))
        let stats = try reader.forEachRow { _ in Issue.record("no row should parse") }
        #expect(stats.malformedCount == 25)
        #expect(stats.malformedSamples.count == ReadStats.sampleLimit)
    }

    @Test func acceptsCRLFAndAMissingFinalNewline() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (0..<5).map { sampleLine($0) }
        let lf = try CriteoReader(path: writeFile(lines.joined(separator: "\n") + "\n", named: "lf.tsv", in: directory))
        let crlf = try CriteoReader(path: writeFile(lines.joined(separator: "\r\n"), named: "crlf.tsv", in: directory))
        let noNewline = try CriteoReader(path: writeFile(lines.joined(separator: "\n"), named: "nonl.tsv", in: directory))
        let expected = Array(lf)
        #expect(expected.count == 5)
        #expect(Array(crlf) == expected)
        #expect(crlf.stats.malformedCount == 0)
        #expect(Array(noNewline) == expected)
        #expect(expected[4].categorical[25] == lines[4].split(separator: "\t", omittingEmptySubsequences: false).last.map(String.init).flatMap { $0.isEmpty ? nil : $0 })
    }

    @Test func smallChunksAndLongLinesGiveTheSameRows() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var categorical = Array(repeating: "v", count: 26)
        categorical[3] = String(repeating: "x", count: 500)  // longer than the chunk: the buffer must grow
        let lines = (0..<200).map { sampleLine($0) } + [line(categorical: categorical)] + (0..<10).map { sampleLine($0) }
        let path = try writeFile(lines.joined(separator: "\n") + "\n", in: directory)
        let reference = Array(try CriteoReader(path: path))
        var chunked = try CriteoReader(path: path)
        chunked.chunkSize = 64
        let rows = Array(chunked)
        #expect(rows.count == 211)
        #expect(rows == reference)
        #expect(rows[200].categorical[3]?.count == 500)
    }

    @Test func readsUnlabeledFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile((0..<3).map { sampleLine($0, label: false) }.joined(separator: "\n"), in: directory)
        let reader = try CriteoReader(path: path, hasLabel: false)
        let rows = Array(reader)
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.label == nil })
        // The same file read as labeled has one field too few on every line.
        let labeled = try CriteoReader(path: path)
        #expect(Array(labeled).isEmpty)
        #expect(labeled.stats.malformedCount == 3)
    }

    @Test func rowViewsMatchRawRowsAndEncodeIdentically() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile((0..<300).map { sampleLine($0) }.joined(separator: "\n"), in: directory)
        let reader = try CriteoReader(path: path)
        let rows = Array(reader)
        var builder = FeatureMapBuilder(minCount: 3)
        var views: [RawRow] = []
        let stats = try reader.forEachRow { view in
            views.append(view.makeRawRow())
            view.add(to: &builder)
        }
        #expect(stats.rowsRead == 300)
        #expect(views == rows)
        let map = builder.build()
        #expect(map.fingerprint == FeatureMap.fit(rows, minCount: 3).fingerprint)
        let encoder = FeatureEncoder(map: map)
        var index = 0
        var expectedIDs = [Int64](repeating: 0, count: 26), expectedDense = [Float](repeating: 0, count: 13)
        var ids = [Int64](repeating: 0, count: 26), dense = [Float](repeating: 0, count: 13)
        try reader.forEachRow { view in
            encoder.encode(rows[index], ids: &expectedIDs, dense: &expectedDense)
            view.encode(with: encoder, ids: &ids, dense: &dense)
            #expect(ids == expectedIDs)
            #expect(dense == expectedDense)
            index += 1
        }
        #expect(index == 300)
        var limited = 0
        try reader.forEachRow(limit: 7) { _ in limited += 1 }
        #expect(limited == 7)
    }

    @Test func missingOrUnreadableFileIsAnErrorNamingIt() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("nope.tsv").path
        #expect {
            try CriteoReader(path: missing)
        } throws: { error in
            let error = error as? CTRDataError
            return error?.code == .fileNotFound && error?.description.contains("nope.tsv") == true
        }
        #expect {
            try CriteoReader(path: directory.path)
        } throws: { error in
            (error as? CTRDataError)?.code == .unreadable
        }
    }

    @Test func emptyFileHasNoRows() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reader = try CriteoReader(path: writeFile("", in: directory))
        #expect(Array(reader).isEmpty)
        #expect(reader.stats == ReadStats())
    }
}
