import ClickwiseTestSupport
import CTRData
import CTRServing
import Foundation
import Synchronization
import Testing
@testable import CTRServer

/// `serve --prediction-log DIR` (issue 25 item 1): every served CTR API prediction as a CSV record a training run
/// reads by column name, written by a background writer that drops (and counts) rather than block a request.
@Suite("The prediction log")
struct PredictionLogTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-plog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Every record of `model`'s files under `directory`: the header's columns and each row by column name.
    static func records(_ directory: String, model: String = "tiny") throws -> (columns: [String], rows: [[String: String]]) {
        let folder = directory + "/" + model
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("predictions-") && $0.hasSuffix(".csv") }.sorted()
        var columns: [String] = [], rows: [[String: String]] = []
        for file in files {
            let reader = try CSVReader(path: folder + "/" + file)
            columns = reader.header
            _ = try reader.forEachRow { row in
                var record: [String: String] = [:]
                for (index, name) in reader.header.enumerated() { record[name] = row.string(index) ?? "" }
                rows.append(record)
            }
        }
        return (columns, rows)
    }

    @Test("predictions and rankings are logged with their request id, raw fields and prediction; the id is answered")
    func logsWhatWasServed() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let items = directory + "/items.csv"
        try ItemTableServingTests.write(ItemTableServingTests.csv(items: 0..<5).text, to: items)
        let server = try await TestServer.start {
            $0.predictionLog = PredictionLog.Settings(directory: directory + "/log")
            $0.itemTables = [ItemTableSetting(path: items)]
        }
        let client = HTTPTestClient(port: server.port)
        let predicted = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Id": "req-1"], body: TestRows.body(rows: 0..<3))
        #expect(predicted.status == 200 && predicted.headers["x-request-id"] == "req-1", "\(predicted.headers)")
        let predictions = try #require(predicted.json?["predictions"] as? [Double])
        let context = RankTests.split(TestRows.row(7)).context
        let ranked = try client.send("POST", "/v1/models/tiny:rank",
                                     body: RankTests.json(["context": context, "candidates": [["C14": "item2"], ["C14": "item4", "C20": "own,value"]]]))
        let scores = try #require(ranked.json?["scores"] as? [Double])
        let generated = try #require(ranked.headers["x-request-id"])
        let log = try #require(server.application.predictionLog)
        #expect(await pollUntil(timeout: 30) { log.counts.written == 5 })

        let (columns, rows) = try Self.records(directory + "/log")
        #expect(Array(columns.prefix(5)) == ["request_id", "timestamp_ms", "model", "version", "index"])
        #expect(columns.last == "prediction" && columns.contains("I1") && columns.contains("C26") && columns.count == 5 + 39 + 1)
        #expect(rows.count == 5)
        // :predict rows as sent.
        for index in 0..<3 {
            let row = rows[index], sent = TestRows.row(index)
            #expect(row["request_id"] == "req-1" && row["model"] == "tiny" && row["version"] == "1" && row["index"] == String(index))
            for field in (1...13).map({ "I\($0)" }) + (1...26).map({ "C\($0)" }) {
                let expected = sent[field].map { "\($0)" } ?? ""
                #expect(row[field] == expected, "row \(index) \(field): \(row[field] ?? "nil") vs \(expected)")
            }
            #expect(abs((Double(row["prediction"] ?? "") ?? -1) - predictions[index]) < 1e-6)
        }
        // :rank candidates: their own value, else their item's, else the context's; a comma survives quoting.
        let itemRow = RankTests.split(TestRows.row(2)).candidate
        #expect(rows[3]["request_id"] == generated && rows[3]["index"] == "0" && rows[4]["index"] == "1")
        #expect(rows[3]["C14"] == "item2" && rows[3]["C15"] == ((itemRow["C15"] as? String) ?? ""))
        #expect(rows[3]["C3"] == ((context["C3"] as? String) ?? "") && rows[3]["I4"] == (context["I4"].map { "\($0)" } ?? ""))
        #expect(rows[4]["C20"] == "own,value")
        #expect(abs((Double(rows[3]["prediction"] ?? "") ?? -1) - scores[0]) < 1e-6 && abs((Double(rows[4]["prediction"] ?? "") ?? -1) - scores[1]) < 1e-6)
        #expect(try server.metrics().value("clickwise_prediction_log_records_total") == 5)

        // The log joins with its clicks into training rows: one click on the first request's second row, one on the ranking's
        // first candidate by its item id.
        let clicked = Int64(rows[0]["timestamp_ms"] ?? "0")! + 5_000
        try "request_id,index,timestamp_ms\nreq-1,1,\(clicked)\n\(generated),0,\(clicked)\nother,0,\(clicked)\n"
            .write(toFile: directory + "/clicks.csv", atomically: true, encoding: .utf8)
        let report = try PredictionJoin.join(predictions: directory + "/log/tiny", clicks: directory + "/clicks.csv", output: directory + "/train.csv",
                                             windowSeconds: 1800)
        #expect(report.rows == 5 && report.positives == 2 && report.unknownClicks == 1)
        let labels = try String(contentsOfFile: directory + "/train.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",").last.map(String.init) }
        #expect(labels == ["0", "1", "0", "1", "0"])

        let refused = try client.send("POST", "/v1/models/tiny:predict", headers: ["X-Request-Id": String(repeating: "x", count: 300)], body: TestRows.body(rows: 0..<1))
        #expect(refused.status == 400 && refused.text.contains("X-Request-Id"))
        await server.stop()
    }

    @Test("a writer that cannot keep up or cannot write drops records and counts them; every request is still answered")
    func dropsRatherThanFail() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Nothing fits in the queue: every record is dropped at once.
        var tiny = PredictionLog.Settings(directory: directory + "/full")
        tiny.maxPendingBytes = 1
        let server = try await TestServer.start { $0.predictionLog = tiny }
        let client = HTTPTestClient(port: server.port)
        for _ in 0..<3 { #expect(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<4)).status == 200) }
        #expect(try server.metrics().value("clickwise_prediction_log_dropped_total") == 12)
        #expect(server.application.predictionLog?.counts.written == 0)
        await server.stop()

        // The model's directory is a file: the writer cannot open a log, drops, counts, and says so.
        let broken = directory + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: broken + "/tiny"))
        let second = try await TestServer.start { $0.predictionLog = PredictionLog.Settings(directory: broken) }
        let secondClient = HTTPTestClient(port: second.port)
        for _ in 0..<3 { #expect(try secondClient.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<2)).status == 200) }
        let log = try #require(second.application.predictionLog)
        #expect(await pollUntil(timeout: 30) { log.counts.dropped == 6 })
        #expect(log.counts.written == 0)
        await second.stop()

        // Sampling 0 logs nothing, and the requests do not notice.
        var none = PredictionLog.Settings(directory: directory + "/none")
        none.sampleRate = 0
        let third = try await TestServer.start { $0.predictionLog = none }
        #expect(try HTTPTestClient(port: third.port).send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<2)).status == 200)
        let counts = try #require(third.application.predictionLog).counts
        #expect(counts.written == 0 && counts.dropped == 0)
        await third.stop()
    }

    @Test("a disk that fills up (a 64 KiB tmpfs): records are dropped and counted, every request answered, no file holds a torn line")
    func fullDisk() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mountPoint = directory + "/disk"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // A real file system that runs out of space; mounting needs root, which CI's machine gives.
        func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        try #require(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]) == 0, "mount a 64 KiB tmpfs at \(mountPoint) (needs root)")
        defer { _ = try? run("/bin/umount", [mountPoint]) }
        var settings = PredictionLog.Settings(directory: mountPoint)
        settings.maxFileBytes = 16 << 10
        let server = try await TestServer.start { $0.predictionLog = settings }
        let client = HTTPTestClient(port: server.port)
        let log = try #require(server.application.predictionLog)
        var requests = 0
        while log.counts.dropped == 0 && requests < 2_000 {
            #expect(try client.send("POST", "/v1/models/tiny:predict", body: TestRows.body(rows: 0..<4)).status == 200)
            requests += 1
        }
        #expect(await pollUntil(timeout: 30) { log.counts.written + log.counts.dropped == requests * 4 })
        #expect(log.counts.dropped > 0 && log.counts.written > 0, "\(log.counts)")
        #expect(try server.metrics().value("clickwise_prediction_log_dropped_total") == Double(log.counts.dropped))
        await server.stop()
        // The writer closes its files (the test server is not run as a service, whose shutdown would), so the disk unmounts.
        log.stop()
        // Every file is a header and whole records: as many lines as written records, each with every column.
        let folder = mountPoint + "/tiny"
        var lines = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(text.hasSuffix("\n"), "\(file) ends in a torn line")
            let rows = text.split(separator: "\n")
            let columns = rows[0].split(separator: ",", omittingEmptySubsequences: false).count
            for row in rows.dropFirst() { #expect(row.split(separator: ",", omittingEmptySubsequences: false).count == columns) }
            lines += rows.count - 1
        }
        #expect(lines == log.counts.written)
    }
}
