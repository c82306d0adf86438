import CTRFeatures
import Foundation
import Testing
@testable import CTRData

/// `clickwise data join`: a prediction log and its clicks as training rows.
@Suite struct PredictionJoinTests {
    static let header = "request_id,timestamp_ms,model,version,index,item,price,prediction\n"

    @Test func labelsByIndexWithinTheWindowAndCountsTheRest() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        try (Self.header + "r1,1000,m,1,0,a,1.5,0.2\nr1,1000,m,1,1,\"b,c\",2.5,0.3\n")
            .write(toFile: log + "/predictions-20261207T100000.csv", atomically: true, encoding: .utf8)
        // The newer file ends in a torn line (the writer stopped mid-line): skipped and counted.
        try (Self.header + "r2,5000,m,1,0,a,,0.4\nr2,5000,m,1,1,d,3.0,0.5\nr3,9000,m,1")
            .write(toFile: log + "/predictions-20261207T110000.csv", atomically: true, encoding: .utf8)
        let clicks = directory.appendingPathComponent("clicks.csv").path
        try """
            request_id,index,timestamp_ms
            r1,1,61000
            r2,0,5000
            r2,1,99000
            r1,0,500
            nope,0,6000

            """.write(toFile: clicks, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("train.csv").path
        let report = try PredictionJoin.join(predictions: log, clicks: clicks, output: out, windowSeconds: 60)
        #expect(report.rows == 4 && report.positives == 2 && report.files == 2 && report.malformedLines == 1)
        #expect(report.clicks == 5 && report.clicksUsed == 2 && report.lateClicks == 1 && report.earlyClicks == 1 && report.unknownClicks == 1)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == [
            "request_id,timestamp_ms,model,version,index,item,price,prediction,clk",
            "r1,1000,m,1,0,a,1.5,0.2,0", "r1,1000,m,1,1,\"b,c\",2.5,0.3,1", "r2,5000,m,1,0,a,,0.4,1", "r2,5000,m,1,1,d,3.0,0.5,0",
        ])

        // The output trains as it is: a dataset config over the schema's columns reads every row and label.
        let config = directory.appendingPathComponent("dataset_config.yaml")
        try """
            ds:
              data_format: csv
              train_data: train.csv
              label_col: {name: clk, dtype: float}
              feature_cols:
                - {name: item, type: categorical}
                - {name: price, type: numeric, dtype: float}
            """.write(to: config, atomically: true, encoding: .utf8)
        let dataset = try DatasetConfig(contentsOf: config)
        var labels: [Float] = []
        let stats = try DatasetFile(path: out, config: dataset).forEachRow { labels.append($0.label ?? -1) }
        #expect(labels == [0, 1, 1, 0] && stats.malformedCount == 0)
    }

    @Test func matchesByItemAndRefusesWhatItCannotRead() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        try (Self.header + "r1,1000,m,1,0,a,1.5,0.2\nr1,1000,m,1,1,b,2.5,0.3\n").write(toFile: log + "/predictions-1.csv", atomically: true, encoding: .utf8)
        let clicks = directory.appendingPathComponent("clicks.csv").path
        try "request_id,item,timestamp\nr1,b,30\n".write(toFile: clicks, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("train.csv").path
        let report = try PredictionJoin.join(predictions: log, clicks: clicks, output: out, windowSeconds: 1800, itemField: "item")
        #expect(report.positives == 1 && report.clicksUsed == 1)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasSuffix("r1,1000,m,1,1,b,2.5,0.3,1\n"))
        // Clicks without a candidate column, a click time that is not a number, a log directory without logs.
        try "request_id,timestamp_ms\nr1,5\n".write(toFile: clicks, atomically: true, encoding: .utf8)
        #expect(throws: CTRDataError.self) { try PredictionJoin.join(predictions: log, clicks: clicks, output: out, windowSeconds: 60) }
        try "request_id,index,timestamp_ms\nr1,0,soon\n".write(toFile: clicks, atomically: true, encoding: .utf8)
        #expect { try PredictionJoin.join(predictions: log, clicks: clicks, output: out, windowSeconds: 60) } throws: { "\($0)".contains("line 2") }
        try "request_id,index,timestamp_ms\nr1,0,5\n".write(toFile: clicks, atomically: true, encoding: .utf8)
        #expect(throws: CTRDataError.self) { try PredictionJoin.join(predictions: directory.path, clicks: clicks, output: out, windowSeconds: 60) }
        #expect(PredictionJoin.seconds("30m") == 1800 && PredictionJoin.seconds("2h") == 7200 && PredictionJoin.seconds("45") == 45)
        #expect(PredictionJoin.seconds("soon") == nil && PredictionJoin.seconds("-5m") == nil)
    }
}
