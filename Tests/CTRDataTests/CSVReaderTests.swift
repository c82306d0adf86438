import Foundation
import Testing
@testable import CTRData

/// Every well-formed record of a pass as (line number, fields), with nil for empty fields.
private func records(_ reader: CSVReader, limit: Int = .max) throws -> [(line: Int, fields: [String?])] {
    var out: [(line: Int, fields: [String?])] = []
    try reader.forEachRow(limit: limit) { row in
        out.append((row.lineNumber, (0..<row.columnCount).map { row.string($0) }))
    }
    return out
}

/// One field as RFC 4180 writes it: quoted when it holds a quote, the separator, CR or LF.
private func encodeField(_ value: String, separator: Character = ",") -> String {
    guard value.contains(where: { $0 == "\"" || $0 == separator || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
        return value
    }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

@Suite struct CSVReaderTests {
    @Test func readsTheHeaderAndFieldsWithEmptyOnesMissing() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("clk,userid,price\n1,u1,3.9\n0,,\n0,u2,\n", named: "a.csv", in: directory)
        let reader = try CSVReader(path: path)
        #expect(reader.header == ["clk", "userid", "price"])
        #expect(reader.column(named: "price") == 2)
        #expect(reader.column(named: "nope") == nil)
        let rows = try records(reader)
        #expect(rows.map(\.line) == [2, 3, 4])
        #expect(rows.map(\.fields) == [["1", "u1", "3.9"], ["0", nil, nil], ["0", "u2", nil]])
        #expect(reader.stats.rowsRead == 3)
        #expect(reader.stats.linesRead == 4)
        #expect(reader.stats.malformedCount == 0)
    }

    @Test func fieldBytesAreZeroCopyAndUnescaped() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("a,b\nplain,\"say \"\"hi\"\"\"\n", named: "a.csv", in: directory)
        var seen: [[UInt8]] = []
        try CSVReader(path: path).forEachRow { row in
            seen = (0..<2).map { Array(row.field($0)!) }
        }
        #expect(seen == [Array("plain".utf8), Array("say \"hi\"".utf8)])
    }

    @Test func quotedFieldsHoldSeparatorsNewlinesAndQuotes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = [
            #"id,text,note"#,
            #"1,"a,b","he said ""hi""""#,
            "2,\"line one\nline two\r\nline three\",\"\"",
            #"3,"""",x"#,
        ].joined(separator: "\n") + "\n"
        let reader = try CSVReader(path: writeFile(text, named: "q.csv", in: directory))
        let rows = try records(reader)
        #expect(rows.map(\.fields) == [
            ["1", "a,b", "he said \"hi\""],
            ["2", "line one\nline two\r\nline three", nil],
            ["3", "\"", "x"],
        ])
        #expect(rows.map(\.line) == [2, 3, 6])
        #expect(reader.stats.linesRead == 6)
    }

    @Test func crlfBomBlankLinesAndNoFinalNewlineGiveTheSameRows() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lf = try records(CSVReader(path: writeFile("a,b\n1,x\n2,\"y\"\n", named: "lf.csv", in: directory)))
        let crlf = try CSVReader(path: writeFile("a,b\r\n1,x\r\n2,\"y\"\r\n", named: "crlf.csv", in: directory))
        let bom = try CSVReader(path: writeFile("\u{FEFF}a,b\n1,x\n2,\"y\"", named: "bom.csv", in: directory))
        let blanks = try CSVReader(path: writeFile("\n\na,b\n\n1,x\r\n\r\n\n2,\"y\"\n\n", named: "blank.csv", in: directory))
        #expect(lf.map(\.fields) == [["1", "x"], ["2", "y"]])
        #expect(try records(crlf).map(\.fields) == lf.map(\.fields))
        #expect(bom.header == ["a", "b"])
        #expect(try records(bom).map(\.fields) == lf.map(\.fields))
        #expect(blanks.header == ["a", "b"])
        let blankRows = try records(blanks)
        #expect(blankRows.map(\.fields) == lf.map(\.fields))
        #expect(blankRows.map(\.line) == [5, 8])
        #expect(blanks.stats.blankLineCount == 6)
        #expect(blanks.stats.linesRead == 9)
        #expect(blanks.stats.malformedCount == 0)
    }

    @Test func countsEachMalformedRecordWithItsLineAndReason() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = [
            "a,b,c",                 // 1 header
            "1,2,3",                 // 2 good
            "1,2",                   // 3 too few fields
            "1,2,3,4",               // 4 too many fields
            "1,ab\"c,3",             // 5 quote inside an unquoted field
            "1,\"ab\"c,3",           // 6 text after a closing quote
            "\"x\ny\",2,3",          // 7-8 good, spans two lines
            "4,5,6",                 // 9 good
            "7,\"never closed,9",    // 10 unterminated: runs to the end of the file
            "8,9,10",                // 11 swallowed by the open quote
        ]
        let reader = try CSVReader(path: writeFile(lines.joined(separator: "\n") + "\n", named: "bad.csv", in: directory))
        let rows = try records(reader)
        #expect(rows.map(\.line) == [2, 7, 9])
        #expect(rows[1].fields == ["x\ny", "2", "3"])
        let stats = reader.stats
        #expect(stats.rowsRead == 3)
        #expect(stats.malformedCount == 5)
        #expect(stats.linesRead == 11)
        #expect(stats.malformedSamples.map(\.lineNumber) == [3, 4, 5, 6, 10])
        #expect(stats.malformedSamples.map(\.reason) == [
            "expected 3 fields, found 2",
            "expected 3 fields, found 4",
            "a quote in the middle of unquoted field 2",
            "text after the closing quote of field 2",
            "unterminated quoted field in column 2 (opened on line 10), at the end of the file",
        ])
        #expect(stats.description.contains("line 5: a quote"))
    }

    @Test func keepsOnlyTheFirstFewReasonsButCountsAll() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = "a,b\n" + (0..<25).map { _ in "only-one" }.joined(separator: "\n")
        let stats = try CSVReader(path: writeFile(text, named: "x.csv", in: directory)).forEachRow { _ in
            Issue.record("no row should parse")
        }
        #expect(stats.malformedCount == 25)
        #expect(stats.malformedSamples.count == ReadStats.sampleLimit)
    }

    @Test func readsTabSeparatedFilesAndFilesWithoutAHeader() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("x\ty\n1\ta,b\n\"q\tq\"\t\n", named: "t.tsv", in: directory)
        let tsv = try CSVReader(path: path, separator: UInt8(ascii: "\t"))
        #expect(tsv.header == ["x", "y"])
        #expect(try records(tsv).map(\.fields) == [["1", "a,b"], ["q\tq", nil]])
        let headless = try CSVReader(path: path, separator: UInt8(ascii: "\t"), hasHeader: false, columnNames: ["p", "q"])
        #expect(headless.header == ["p", "q"])
        #expect(try records(headless).map(\.fields) == [["x", "y"], ["1", "a,b"], ["q\tq", nil]])
        #expect(try records(headless).map(\.line) == [1, 2, 3])
    }

    @Test func stopsAtTheLimit() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeFile("n\n" + (0..<100).map(String.init).joined(separator: "\n"), named: "n.csv", in: directory)
        let reader = try CSVReader(path: path)
        #expect(try records(reader, limit: 7).map(\.fields) == (0..<7).map { [String($0)] })
        #expect(try records(reader).count == 100)
    }

    @Test func aRecordLongerThanTheChunkMakesTheBufferGrow() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let long = String(repeating: "x", count: 5_000)
        let quotedLong = String(repeating: "a\"\"b,\n", count: 500)
        let text = "a,b\n1,\(long)\n2,\"\(quotedLong)\"\n3,z\n"
        var reader = try CSVReader(path: writeFile(text, named: "long.csv", in: directory))
        reader.chunkSize = 16
        let rows = try records(reader)
        #expect(rows.map { $0.fields[0] } == ["1", "2", "3"])
        #expect(rows[0].fields[1] == long)
        #expect(rows[1].fields[1] == String(repeating: "a\"b,\n", count: 500))
        #expect(rows.map(\.line) == [2, 3, 504])
    }

    @Test func everyChunkSizeGivesTheSameRecords() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Random fields full of the bytes that matter, written the RFC 4180 way, mixed line ends.
        var rng = SplitMix64(seed: 7)
        let alphabet: [String] = ["a", "b", "7", ",", "\"", "\n", "\r\n", " ", "é", "^"]
        func randomField() -> String {
            let length = Int(rng.next() % 9)
            return (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
        }
        var expected: [[String?]] = []
        var text = "\u{FEFF}c1,c2,c3,c4\r\n"
        for i in 0..<300 {
            let fields = (0..<4).map { _ in randomField() }
            expected.append(fields.map { $0.isEmpty ? nil : $0 })
            text += fields.map { encodeField($0) }.joined(separator: ",") + (i % 3 == 0 ? "\r\n" : "\n")
            if i % 50 == 0 { text += "\n" }
        }
        let path = try writeFile(text, named: "fuzz.csv", in: directory)
        let reference = try records(CSVReader(path: path))
        #expect(reference.map(\.fields) == expected)
        for size in [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 64, 100, 257] {
            var reader = try CSVReader(path: path)
            reader.chunkSize = size
            let rows = try records(reader)
            #expect(rows.map(\.fields) == expected, "chunk size \(size)")
            #expect(rows.map(\.line) == reference.map(\.line), "chunk size \(size)")
            #expect(reader.stats.malformedCount == 0)
        }
    }

    @Test func badHeadersThrowNamingTheFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func headerError(_ text: String) throws -> CTRDataError? {
            let path = try writeFile(text, named: "h.csv", in: directory)
            do {
                _ = try CSVReader(path: path)
                return nil
            } catch {
                return error
            }
        }
        let empty = try headerError("")
        #expect(empty?.code == .invalidHeader)
        #expect(empty?.description.contains("h.csv") == true)
        #expect(empty?.detail.contains("empty") == true)
        #expect(try headerError("\n\r\n\n")?.code == .invalidHeader)
        let duplicate = try headerError("a,b,a\n1,2,3\n")
        #expect(duplicate?.code == .invalidHeader)
        #expect(duplicate?.detail == "column \"a\" appears twice (columns 1 and 3)")
        #expect(try headerError("a,,c\n")?.code == nil)  // an unnamed column is kept, and cannot be asked for
        #expect(try headerError(",\n")?.detail == "no column names")
        #expect(try headerError("a,\"b\n")?.detail.contains("unterminated") == true)
        #expect(try headerError("a,\"b\",c\n")?.code == nil)
        let missing = directory.appendingPathComponent("nope.csv").path
        #expect(throws: CTRDataError.self) { try CSVReader(path: missing) }
        #expect {
            try CSVReader(path: missing)
        } throws: { error in
            (error as? CTRDataError)?.code == .fileNotFound && "\(error)".contains("nope.csv")
        }
        let path = try writeFile("a\n", named: "ok.csv", in: directory)
        #expect(throws: CTRDataError.self) { try CSVReader(path: path, columnNames: ["a"]) }
        #expect(throws: CTRDataError.self) { try CSVReader(path: path, hasHeader: false) }
        #expect(throws: CTRDataError.self) { try CSVReader(path: path, separator: UInt8(ascii: "\"")) }
    }

    @Test func aHeaderWiderThanTheInitialBoundsKeepsEveryName() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = (0..<300).map { "col\($0)" }
        let values = (0..<300).map { String($0) }
        let text = names.joined(separator: ",") + "\n" + values.joined(separator: ",") + "\n"
        let reader = try CSVReader(path: writeFile(text, named: "wide.csv", in: directory))
        #expect(reader.header == names)
        #expect(try records(reader).map(\.fields) == [values])
    }
}
