import ClickwiseTestSupport
import Foundation
import Testing

/// `clickwise evaluate --predictions LOG --clicks FILE` as a user runs it: a two-version log, the table, the
/// comparison, the JSON, and the refusals of mixed arguments.
@Suite("evaluate a prediction log (real binary)")
struct OnlineEvaluateTests {
    static func clickwise(_ arguments: [String]) throws -> (status: Int32, output: [String]) {
        let process = try ServeProcess.clickwise(arguments)
        let status = try process.waitForExit(timeout: 120)
        return (status, process.output)
    }

    @Test func comparesTwoServedVersions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-online-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/log/m", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Version 1 ranks the clicked candidate of each request first; version 2 ranks at random. Each request
        // shows 4 candidates and one is clicked 10 s later.
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var log = "request_id,timestamp_ms,model,version,index,item,prediction\n", clicks = "request_id,index,timestamp_ms\n"
        for request in 0..<1_000 {
            let version = request % 2 == 0 ? "1" : "2"
            let clicked = Int(next() * 4)
            for index in 0..<4 {
                let prediction = version == "1" ? (index == clicked ? 0.3 + 0.2 * next() : 0.2 * next()) : 0.5 * next()
                log += "q\(request),\(1_000 * request),m,\(version),\(index),i\(index),\(prediction)\n"
            }
            clicks += "q\(request),\(clicked),\(1_000 * request + 10_000)\n"
        }
        try log.write(toFile: directory + "/log/m/predictions-20261208T000000.csv", atomically: true, encoding: .utf8)
        try clicks.write(toFile: directory + "/clicks.csv", atomically: true, encoding: .utf8)

        let json = directory + "/online.json"
        let result = try Self.clickwise(["evaluate", "--predictions", directory + "/log", "--clicks", directory + "/clicks.csv", "--json", json])
        #expect(result.status == 0, "\(result.output)")
        let text = result.output.joined(separator: "\n")
        #expect(result.output.contains { $0.hasPrefix("m/1 ") && $0.contains(" 2000 ") && $0.contains(" 500 ") }, "\(text)")
        #expect(result.output.contains { $0.hasPrefix("m/2 ") }, "\(text)")
        #expect(text.contains("z-test on independent AUCs") && text.contains("m/1 vs m/2") && text.contains("m/1 is better"), "\(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let versions = try #require(object["versions"] as? [[String: Any]])
        #expect(versions.count == 2 && (versions[0]["clicks"] as? Int) == 500)
        let auc = try #require(versions[0]["auc"] as? [String: Double])
        #expect(auc["value"] == 1 && (auc["low"] ?? 0) <= 1)
        #expect(((object["comparisons"] as? [[String: Any]])?.first?["better"] as? String) == "m/1")

        // Mixed or missing arguments name the option.
        let noLog = try Self.clickwise(["evaluate", "--clicks", directory + "/clicks.csv"])
        #expect(noLog.status != 0 && noLog.output.joined().contains("--predictions"), "\(noLog.output)")
        let withBundle = try Self.clickwise(["evaluate", directory, "--predictions", directory + "/log", "--clicks", directory + "/clicks.csv"])
        #expect(withBundle.status != 0 && withBundle.output.joined().contains("drop BUNDLE"), "\(withBundle.output)")
        let withData = try Self.clickwise(["evaluate", "--predictions", directory + "/log", "--clicks", directory + "/clicks.csv", "--data", "x.csv"])
        #expect(withData.status != 0 && withData.output.joined().contains("--data"), "\(withData.output)")
        let noBundle = try Self.clickwise(["evaluate", "--data", "x.csv"])
        #expect(noBundle.status != 0 && noBundle.output.joined().contains("BUNDLE"), "\(noBundle.output)")
    }
}
