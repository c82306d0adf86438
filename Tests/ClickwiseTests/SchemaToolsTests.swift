import CTRFeatures
import ClickwiseTestSupport
import Foundation
import Testing

/// The tools on a non-Criteo bundle: the Python peer's encoding against `clickwise encode`, and `bench ceiling`,
/// `tune` and bench/gen_rows.py on a bundle trained here (categorical, four kinds of numeric and two sequence fields).
@Suite("tools on any schema")
struct SchemaToolsTests {
    static let python = ServeProcess.packageRoot + "/.venv/bin/python"

    /// A schema with what the encoder distinguishes: a `fill_na` categorical, bucketed, standardised, min-max
    /// (with `fill_na`) and raw numbers, a shared pre-padded sequence and an unshared post-padded one.
    static let config = """
        tools:
          data_root: ./
          data_format: csv
          sep: ","
          train_data: train.csv
          valid_data: valid.csv
          min_categr_count: 2
          label_col: {name: clk, dtype: float}
          feature_cols:
            - {name: ts, active: false, dtype: str, type: categorical}
            - {name: user, active: true, dtype: str, type: categorical}
            - {name: item, active: true, dtype: str, type: categorical, fill_na: i0}
            - {name: age, active: true, dtype: int, type: numeric, preprocess: convert_to_bucket}
            - {name: price, active: true, dtype: float, type: numeric, normalizer: StandardScaler}
            - {name: score, active: true, dtype: float, type: numeric, normalizer: MinMaxScaler, fill_na: "0.5"}
            - {name: visits, active: true, dtype: int, type: numeric}
            - {name: history, active: true, dtype: str, type: sequence, splitter: ^, max_len: 4, padding: pre, share_embedding: item}
            - {name: tags, active: true, dtype: str, type: sequence, splitter: "|", max_len: 3, padding: post}
        """

    /// A deterministic stream for the synthetic rows.
    struct Stream {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// `count` CSV rows with a header: skewed tokens, empty fields, empty and over-long sequences, a label tied to the features.
    static func csv(rows count: Int, seed: UInt64) -> String {
        var s = Stream(state: seed)
        var text = "clk,ts,user,item,age,price,score,visits,history,tags\n"
        func skewed(_ prefix: String, _ n: Int) -> String { "\(prefix)\(min(s.next(n), s.next(n)))" }
        for _ in 0..<count {
            let item = s.next(10) == 0 ? "" : skewed("i", 30)
            let user = s.next(12) == 0 ? "" : skewed("u", 40)
            let age = s.next(10) == 0 ? "" : s.next(20) == 0 ? "-1" : "\(s.next(2) == 0 ? s.next(5) : s.next(5000))"
            let price = s.next(10) == 0 ? "" : String(format: "%.2f", 20 + Double(s.next(2000)) / 100 - Double(s.next(1000)) / 100)
            let score = s.next(8) == 0 ? "" : String(format: "%.3f", Double(s.next(3000)) / 1000)
            let visits = s.next(10) == 0 ? "" : "\(s.next(60))"
            let history = (0..<s.next(7)).map { _ in s.next(9) == 0 ? "" : skewed("i", 40) }.joined(separator: "^")
            let tags = (0..<s.next(6)).map { _ in skewed("t", 12) }.joined(separator: "|")
            let clk = (item.hasSuffix("1") || history.contains("i2")) != (s.next(5) == 0) ? 1 : 0
            text += "\(clk),2024-01-0\(s.next(9) + 1),\(user),\(item),\(age),\(price),\(score),\(visits),\(history),\(tags)\n"
        }
        return text
    }

    /// A fresh directory holding dataset_config.yaml, train.csv and valid.csv.
    static func dataset() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-tools-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try config.write(toFile: directory + "/dataset_config.yaml", atomically: true, encoding: .utf8)
        try csv(rows: 1200, seed: 1).write(toFile: directory + "/train.csv", atomically: true, encoding: .utf8)
        try csv(rows: 300, seed: 2).write(toFile: directory + "/valid.csv", atomically: true, encoding: .utf8)
        return directory
    }

    /// Runs a child to completion and returns its exit status and output.
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> (status: Int32, output: String) {
        let process = try ServeProcess(executable, arguments, label: (arguments.first ?? executable))
        let status = try process.waitForExit(timeout: timeout)
        return (status, process.output.joined(separator: "\n"))
    }

    @Test("the Python peer encodes a schema with sequences exactly as clickwise encode does")
    func peerEncodingMatchesSwift() throws {
        let directory = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dataset = try DatasetConfig(yaml: Self.config, path: directory + "/dataset_config.yaml")
        // Fit on the training rows as the trainer does, then encode the validation rows (unseen tokens: OOV).
        var builder = FeatureMapBuilder(schema: dataset.schema)
        let lines = try String(contentsOfFile: directory + "/train.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        for line in lines {
            let v = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.isEmpty ? nil : String($0) }
            builder.add(RawRow(label: Float(v[0] ?? "0"), dense: [v[4], v[5], v[6], v[7]].map { $0.flatMap(Double.init) },
                               categorical: [v[2], v[3]], sequences: [v[8], v[9]]))
        }
        let map = builder.build()
        #expect(map.schema.sequenceFields.count == 2 && map.sequenceLengths == [4, 3])
        let bundle = directory + "/bundle"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try map.write(to: URL(fileURLWithPath: bundle + "/features.json"))

        let encode = try Self.run(try ServeProcess.clickwiseBinary,
                                  ["encode", bundle, "--data", directory + "/valid.csv", "--out", directory + "/encoded"])
        #expect(encode.status == 0, "\(encode.output)")
        let check = try Self.run(Self.python, [ServeProcess.packageRoot + "/bench/peers/check_encoding.py", "--features",
                                               bundle + "/features.json", "--data", directory + "/valid.csv", "--encoded", directory + "/encoded"])
        print(check.output)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("OK: peer encoding equals clickwise encode")
                && check.output.contains("sequence_ids int64 [300, 7]"), "\(check.output)")
    }

    @Test("bench ceiling, tune and bench/gen_rows.py rows work on a small non-Criteo bundle")
    func toolsOnTrainedBundle() throws {
        let directory = try Self.dataset()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = directory + "/models"
        let train = try Self.run(try ServeProcess.clickwiseBinary, [
            "train", "--dataset-config", directory + "/dataset_config.yaml", "--model", "deepfm", "--epochs", "1",
            "--batch-size", "256", "--embedding-dim", "4", "--hidden-units", "16", "--threads", "1", "--no-progress",
            "--out", repository + "/tools/1",
        ], timeout: 300)
        try #require(train.status == 0, "\(train.output)")

        // The ceiling runs every input of the signature (sparse_ids [B,2], dense [B,4], sequence_ids [B,7]).
        let ceiling = try Self.run(try ServeProcess.clickwiseBinary,
                                   ["bench", "ceiling", repository, "--duration", "0.5", "--threads", "1", "--batch-size", "16"])
        #expect(ceiling.status == 0, "\(ceiling.output)")
        let rate = ceiling.output.split(separator: "\n").first { $0.hasPrefix("ceiling_rows_per_s") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Double($0) }
        #expect((rate ?? 0) > 0, "\(ceiling.output)")

        // tune: one configuration; its own rows (drawn from the schema) must all be answered.
        let tune = try Self.run(try ServeProcess.clickwiseBinary, [
            "tune", "--model", repository, "--duration", "1", "--connections", "4", "--wrk-threads", "1",
            "--pool-sizes", "1", "--max-batch-sizes", "1", "--p99-budget-ms", "1000",
        ], timeout: 120)
        #expect(tune.status == 0, "\(tune.output)")
        #expect(tune.output.contains("recommended (highest RPS"), "\(tune.output)")

        // bench/gen_rows.py's rows: the server answers them, and the peer's encoding + onnxruntime predicts the same.
        let rows = directory + "/rows.jsonl"
        let generate = try Self.run(Self.python, [ServeProcess.packageRoot + "/bench/gen_rows.py", "--bundle", repository + "/tools/1",
                                                  "--count", "200", "--out", rows])
        try #require(generate.status == 0, "\(generate.output)")
        let text = try String(contentsOfFile: rows, encoding: .utf8)
        #expect(text.contains("\"history\":[") && text.contains("\"price\":"), "\(text.prefix(400))")
        let served = try ServeProcess.clickwise(["serve", "--port", "0", "--grpc-port", "0", "--model", repository])
        defer { served.stop() }
        let line = try served.waitForLine { $0.contains("serving") && $0.contains("http://127.0.0.1:") }
        try served.waitForLine { $0.hasPrefix("ready") }
        let port = try #require(ServeProcess.number(after: "http://127.0.0.1:", in: line))
        let check = try Self.run(Self.python, [
            ServeProcess.packageRoot + "/bench/peers/check_peer.py", "--clickwise", "http://127.0.0.1:\(port)", "--peer", "local",
            "--model", "tools", "--rows", rows, "--count", "200", "--bundle", repository + "/tools/1",
        ])
        print(check.output)
        #expect(check.status == 0 && check.output.contains("OK: predictions agree"), "\(check.output)")
    }
}
