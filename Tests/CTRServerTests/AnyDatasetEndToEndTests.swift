import CTRFeatures
import ClickwiseTestSupport
import Foundation
import Testing

/// A new user's path with the real binary: a CSV → `schema infer` → `train` → `serve`, and predictions over
/// HTTP equal to `clickwise evaluate`'s ONNX Runtime predictions on the same rows. Two non-Criteo datasets:
/// the Taobao-shaped tiny config (string ids, a float, empty fields, a `^` sequence sharing a vocabulary,
/// an inactive column) and a 150-field schema.
@Suite("Any dataset end to end (real binary, real ONNX Runtime, real sockets)")
struct AnyDatasetEndToEndTests {
    /// Runs `clickwise ARGS` to completion; returns its exit status and output lines.
    static func run(_ arguments: [String], timeout: Double = 300) throws -> (status: Int32, output: [String]) {
        let process = try ServeProcess.clickwise(arguments)
        let status = try process.waitForExit(timeout: timeout)
        return (status, process.output)
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Draws `rows` rows with `data synth` and splits them into train (the first 70%), valid and test files.
    static func makeData(config: String, in directory: String, rows: Int) throws {
        let all = directory + "/all.csv"
        let synth = try run(["data", "synth", "--dataset-config", config, "--rows", String(rows), "--seed", "7", "--out", all])
        #expect(synth.status == 0, "\(synth.output)")
        let lines = try String(contentsOfFile: all, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let header = lines.first!, body = Array(lines.dropFirst())
        let train = body.count * 7 / 10, valid = body.count * 85 / 100
        for (name, slice) in [("train", body[..<train]), ("valid", body[train..<valid]), ("test", body[valid...])] {
            try ([String(header)] + slice.map(String.init)).joined(separator: "\n").appending("\n")
                .write(toFile: directory + "/\(name).csv", atomically: true, encoding: .utf8)
        }
    }

    /// The test rows as CTR API instances: every CSV column by name (the label and inactive columns
    /// included, as raw log rows carry them), empty fields absent or null, sequences alternately as a JSON
    /// array and as the joined string, numbers as JSON numbers.
    static func instances(csv path: String, schema: FeatureSchema) throws -> [[String: Any]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let numeric = Set(schema.numericFields.map(\.name))
        let sequences = Dictionary(uniqueKeysWithValues: schema.sequenceFields.map { ($0.name, $0.sequence!.splitter) })
        return lines.dropFirst().enumerated().map { index, line in
            var object: [String: Any] = [:]
            for (name, value) in zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)) {
                if value.isEmpty {
                    if index % 2 == 0 { object[name] = NSNull() }
                    continue
                }
                if numeric.contains(name) {
                    object[name] = Double(value)!
                } else if let splitter = sequences[name], index % 2 == 0 {
                    object[name] = value.components(separatedBy: splitter)
                } else {
                    object[name] = value
                }
            }
            return object
        }
    }

    /// Trains, evaluates with --predictions, serves, and checks the server's answers against them.
    static func trainServeAndCompare(config: String, directory: String, model: [String], expectedInputs: [String]) throws {
        let bundle = directory + "/bundle"
        let train = try run(["train", "--dataset-config", config, "--out", bundle, "--epochs", "1", "--batch-size", "256",
                             "--threads", "1", "--no-progress"] + model)
        #expect(train.status == 0, "\(train.output)")
        let predictions = directory + "/predictions.txt"
        let evaluate = try run(["evaluate", bundle, "--data", directory + "/test.csv", "--predictions", predictions])
        #expect(evaluate.status == 0, "\(evaluate.output)")
        let expected = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n").map { Double($0)! }

        let map = try FeatureMap(contentsOf: URL(fileURLWithPath: bundle + "/features.json"))
        #expect(map.signature.inputs.map(\.name) == expectedInputs)
        let rows = try instances(csv: directory + "/test.csv", schema: map.schema)
        #expect(rows.count == expected.count)

        let (served, port) = try ServeProcessTests.serve(["--model", bundle, "--max-rows-per-request", "64"])
        defer { served.stop() }
        let client = HTTPTestClient(port: port)
        var answered: [Double] = []
        for start in stride(from: 0, to: rows.count, by: 50) {
            let chunk = Array(rows[start..<min(start + 50, rows.count)])
            let body = try JSONSerialization.data(withJSONObject: ["instances": chunk])
            let response = try client.send("POST", "/v1/models/bundle:predict", body: Array(body))
            try #require(response.status == 200, "\(response.text)")
            answered += try #require(response.json?["predictions"] as? [Double])
        }
        #expect(answered.count == expected.count)
        let worst = zip(answered, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest difference between HTTP and evaluate: \(worst)")

        // v2 metadata shows the model's real inputs.
        let metadata = try client.send("GET", "/v2/models/bundle").json
        let inputs = try #require(metadata?["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["name"] as? String } == expectedInputs.map { Optional($0) })

        // A schema with context fields (configs/tiny marks the user side) ranks on the bundle's ranking graph:
        // each request's context once, its candidates' own fields, the scores those of the merged rows.
        let context = Set(map.schema.contextFields.map(\.name))
        if !context.isEmpty {
            #expect(FileManager.default.fileExists(atPath: bundle + "/ranking.onnx"))
            #expect(served.output.contains { $0.contains("ranks on its ranking graph: \(context.count) context fields") }, "\(served.output)")
            for start in stride(from: 0, to: min(rows.count, 150), by: 50) {
                let chunk = Array(rows[start..<min(start + 50, rows.count)])
                let shared = chunk[0].filter { context.contains($0.key) }
                let candidates = chunk.map { $0.filter { !context.contains($0.key) } }
                let merged = candidates.map { shared.merging($0) { _, own in own } }
                let flat = try client.send("POST", "/v1/models/bundle:predict", body: Array(try JSONSerialization.data(withJSONObject: ["instances": merged])))
                let want = try #require(flat.json?["predictions"] as? [Double])
                let ranked = try client.send("POST", "/v1/models/bundle:rank",
                                             body: Array(try JSONSerialization.data(withJSONObject: ["context": shared, "candidates": candidates])))
                try #require(ranked.status == 200, "\(ranked.text)")
                let scores = try #require(ranked.json?["scores"] as? [Double])
                let gap = zip(scores, want).map { abs($0 - $1) }.max() ?? 1
                #expect(scores.count == want.count && gap < 1e-5, ":rank vs :predict: \(gap)")
            }
        }

        // A key the schema does not know is a 400 naming it.
        var bad = rows[0]
        bad["no_such_column"] = "x"
        let refused = try client.send("POST", "/v1/models/bundle:predict", body: Array(try JSONSerialization.data(withJSONObject: ["instances": [bad]])))
        #expect(refused.status == 400)
        #expect(refused.text.contains("no_such_column"))
    }

    @Test("Taobao-shaped CSV: schema infer, train DeepFM, serve; HTTP predictions equal evaluate's")
    func tinyTaobao() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/dataset_config.yaml"
        try FileManager.default.copyItem(atPath: ServeProcess.packageRoot + "/configs/tiny/dataset_config.yaml", toPath: config)
        try Self.makeData(config: config, in: directory, rows: 1600)

        let inferredPath = directory + "/inferred.yaml"
        let infer = try Self.run(["schema", "infer", "--data", directory + "/train.csv", "--label", "clk", "--out", inferredPath])
        #expect(infer.status == 0, "\(infer.output)")
        let inferred = try DatasetConfig(contentsOf: URL(fileURLWithPath: inferredPath))
        #expect(inferred.schema.field(named: "price")?.kind == .numeric)
        #expect(inferred.schema.field(named: "click_sequence")?.kind == .sequence)
        #expect(inferred.schema.field(named: "userid")?.kind == .categorical)
        #expect(inferred.trainData == directory + "/train.csv")

        try Self.trainServeAndCompare(config: config, directory: directory, model: ["--model", "deepfm"],
                                      expectedInputs: ["sparse_ids", "dense", "sequence_ids"])

        // `export ranking` reads the bundle back and writes the same ranking graph train wrote.
        let written = try Data(contentsOf: URL(fileURLWithPath: directory + "/bundle/ranking.onnx"))
        try FileManager.default.removeItem(atPath: directory + "/bundle/ranking.onnx")
        let export = try Self.run(["export", "ranking", directory + "/bundle"])
        #expect(export.status == 0, "\(export.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/bundle/ranking.onnx")) == written)
        let unknown = try Self.run(["export", "ranking", directory + "/bundle", "--context-fields", "userid,nope"])
        #expect(unknown.status != 0 && unknown.output.contains { $0.contains("nope is not a field") }, "\(unknown.output)")
    }

    @Test("a 150-field schema (categorical, numeric with both normalizers, sequences): train AutoInt+, serve; HTTP equals evaluate")
    func wideSchema() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var columns: [String] = []
        for i in 0..<100 { columns.append("    - {name: cat\(i), active: true, dtype: \(i % 3 == 0 ? "int" : "str"), type: categorical}") }
        for i in 0..<45 {
            let normalizer = ["", ", normalizer: StandardScaler", ", normalizer: MinMaxScaler"][i % 3]
            columns.append("    - {name: num\(i), active: true, dtype: float, type: numeric\(normalizer)}")
        }
        for i in 0..<5 {
            let shared = i < 2 ? ", share_embedding: cat\(i + 1)" : ""
            columns.append("    - {name: seq\(i), active: true, dtype: str, type: sequence, splitter: \"|\", max_len: \(3 + i), padding: \(i % 2 == 0 ? "pre" : "post")\(shared)}")
        }
        let yaml = """
            wide:
              data_format: csv
              train_data: train.csv
              valid_data: valid.csv
              label_col: {name: y, dtype: float}
              feature_cols:
            \(columns.joined(separator: "\n"))
            """
        let config = directory + "/dataset_config.yaml"
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let declared = try DatasetConfig(contentsOf: URL(fileURLWithPath: config))
        #expect(declared.schema.fields.count == 150)
        try Self.makeData(config: config, in: directory, rows: 1000)

        let infer = try Self.run(["schema", "infer", "--data", directory + "/train.csv", "--label", "y", "--sequence-separator", "|",
                                  "--out", directory + "/inferred.yaml"])
        #expect(infer.status == 0, "\(infer.output)")
        let inferred = try DatasetConfig(contentsOf: URL(fileURLWithPath: directory + "/inferred.yaml"))
        #expect(inferred.schema.fields.count == 150)
        #expect(inferred.schema.sequenceFields.count == 5)

        try Self.trainServeAndCompare(config: config, directory: directory,
                                      model: ["--model", "autoint", "--attention-layers", "1", "--attention-dim", "16",
                                              "--autoint-hidden-units", "32", "--embedding-dim", "8"],
                                      expectedInputs: ["sparse_ids", "dense", "sequence_ids"])
    }

    @Test("config and data errors are one line naming the file and the key or column")
    func configErrors() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "clk,a,b\n1,x,2\n0,y,3\n".write(toFile: directory + "/data.csv", atomically: true, encoding: .utf8)
        func config(_ columns: String) throws -> String {
            let path = directory + "/config-\(UUID().uuidString).yaml"
            try "ds:\n  train_data: data.csv\n  label_col: {name: clk, dtype: float}\n  feature_cols:\n\(columns)\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let cases: [(String, [String])] = [
            (try config("    - {name: a, active: true, dtpye: str, type: categorical}"), ["feature_cols[0].dtpye", "did you mean dtype?"]),
            (try config("    - {name: a, active: true, dtype: str, type: categorcal}"), ["feature_cols[0].type", "categorcal"]),
            (try config("    - {name: zz, active: true, dtype: str, type: categorical}"), ["zz", "data.csv", "not in the header"]),
            (directory + "/missing.yaml", ["missing.yaml", "no such file"]),
        ]
        for (path, fragments) in cases {
            let result = try Self.run(["train", "--dataset-config", path, "--model", "lr", "--out", directory + "/out", "--epochs", "1"])
            #expect(result.status != 0)
            let errors = result.output.filter { $0.contains("rror") }
            #expect(errors.count == 1, "\(result.output)")
            for fragment in fragments { #expect(errors.first?.contains(fragment) == true, "\(fragment) not in \(result.output)") }
            if !path.hasSuffix("missing.yaml") { #expect(errors.first?.contains(path) == true || errors.first?.contains("data.csv") == true) }
        }
    }

    /// MovieLens-100K (scripts/make_movielens.py, from the recbole wheel) as FuxiCTR's Frappe-style all-categorical
    /// schema, the dataset shape that once crashed evaluate (issue 21): train, evaluate, serve the test rows.
    @Test("real data, all categorical (MovieLens-100K ids): train, evaluate, serve; HTTP equals evaluate")
    func movieLensAllCategorical() throws {
        let dataset = ServeProcess.packageRoot + "/Tests/Fixtures/movielens"
        try #require(FileManager.default.fileExists(atPath: dataset + "/test.csv"), "run `make fixtures` (scripts/make_movielens.py)")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = directory + "/ml/1"
        let train = try Self.run(["train", "--dataset-config", dataset + "/dataset_config.yaml", "--dataset-id", "ml100k_cat",
                                  "--model", "deepfm", "--out", bundle, "--epochs", "1", "--max-rows", "30000",
                                  "--threads", "1", "--no-progress"])
        #expect(train.status == 0, "\(train.output)")
        let map = try FeatureMap(contentsOf: URL(fileURLWithPath: bundle + "/features.json"))
        #expect(map.signature.inputs.map(\.name) == ["sparse_ids"])
        #expect(map.schema.categoricalFields.count == 7 && map.schema.numericFields.isEmpty && map.schema.sequenceFields.isEmpty)

        let test = directory + "/test.csv"
        let lines = try String(contentsOfFile: dataset + "/test.csv", encoding: .utf8).split(separator: "\n").prefix(2001)
        try (lines.joined(separator: "\n") + "\n").write(toFile: test, atomically: true, encoding: .utf8)
        let predictionsPath = directory + "/predictions.txt"
        let evaluate = try Self.run(["evaluate", bundle, "--data", test, "--predictions", predictionsPath])
        #expect(evaluate.status == 0, "\(evaluate.output)")
        let auc = evaluate.output.first { $0.hasPrefix("AUC:") }.flatMap { Double($0.dropFirst(4).trimmingCharacters(in: .whitespaces)) }
        #expect((auc ?? 0) > 0.7, "\(evaluate.output)")  // one epoch on 30,000 rows: a real signal, not a coin
        let expected = try String(contentsOfFile: predictionsPath, encoding: .utf8).split(separator: "\n").map { Double($0)! }
        let rows = try Self.instances(csv: test, schema: map.schema)
        #expect(rows.count == expected.count)

        let (served, port) = try ServeProcessTests.serve(["--model", directory + "/ml"])
        defer { served.stop() }
        let client = HTTPTestClient(port: port)
        var answered: [Double] = []
        for start in stride(from: 0, to: rows.count, by: 250) {
            let body = try JSONSerialization.data(withJSONObject: ["instances": Array(rows[start..<min(start + 250, rows.count)])])
            let response = try client.send("POST", "/v1/models/ml:predict", body: Array(body))
            try #require(response.status == 200, "\(response.text)")
            answered += try #require(response.json?["predictions"] as? [Double])
        }
        #expect(answered.count == expected.count)
        let worst = zip(answered, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "largest difference between HTTP and evaluate: \(worst)")
    }
}
