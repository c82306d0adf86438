import CTRFeatures
import ClickwiseTestSupport
import Foundation
import Testing

/// Issue 21 as a user meets it, with the real binary: every schema evaluates, and evaluate's predictions equal
/// serving's; real files with their quirks train and evaluate; a real all-categorical dataset end to end.
@Suite("every valid dataset works (real binary)")
struct EveryDatasetTests {
    static let python = ServeProcess.packageRoot + "/.venv/bin/python"

    static func run(_ executable: String, _ arguments: [String], timeout: Double = 600) throws -> (status: Int32, output: [String]) {
        let process = try ServeProcess(executable, arguments)
        let status = try process.waitForExit(timeout: timeout)
        return (status, process.output)
    }

    static func clickwise(_ arguments: [String], timeout: Double = 600) throws -> (status: Int32, output: [String]) {
        try run(try ServeProcess.clickwiseBinary, arguments, timeout: timeout)
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-every-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("25 seeded random schemas and the two smallest: synth, train, evaluate, encode, serve all agree (scripts/random_schemas_check.py)")
    func randomSchemas() throws {
        let work = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let result = try Self.run(Self.python, [ServeProcess.packageRoot + "/scripts/random_schemas_check.py",
                                                "--clickwise", try ServeProcess.clickwiseBinary, "--work", work])
        #expect(result.status == 0, "\(result.output.suffix(40).joined(separator: "\n"))")
        #expect(result.output.contains("random schemas: 27 of 27 passed"), "\(result.output.suffix(10))")
    }

    @Test("a real file: BOM, CRLF, unnamed columns, spaced header, true/false labels, no valid or test split; bad lines named")
    func realFileQuirks() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var lines = [",clk, user id ,price,city,"]  // a pandas index column and a trailing separator: two unnamed columns
        for i in 0..<600 {
            let label = [["false", "true"], ["0.0", "1.0"], ["0", "1"]][i % 3][(i * 7 + i / 5) % 3 == 0 ? 1 : 0]
            lines.append("\(i),\(label),u\(i % 37),\(i % 11 == 0 ? "" : String(Double(i % 50) / 4)),\(1 + i % 221),")
        }
        lines.insert("600,maybe,u1,2.5,7,", at: 4)  // line 5: a label that is neither a number nor true/false
        let data = directory + "/data.csv"
        try Data(("\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: data))

        let config = directory + "/dataset_config.yaml"
        let infer = try Self.clickwise(["schema", "infer", "--data", data, "--label", "clk", "--out", config])
        #expect(infer.status == 0, "\(infer.output)")
        let inferred = try DatasetConfig(contentsOf: URL(fileURLWithPath: config))
        #expect(inferred.schema.fields.map(\.name) == ["user id", "price", "city"])
        #expect(inferred.schema.field(named: "city")?.kind == .categorical)  // 221 ids repeating in 600 rows
        #expect(inferred.validData == nil && inferred.testData == nil)

        let bundle = directory + "/bundle"
        let train = try Self.clickwise(["train", "--dataset-config", config, "--model", "deepfm", "--out", bundle, "--epochs", "1",
                                        "--batch-size", "64", "--threads", "1", "--no-progress"])
        #expect(train.status == 0, "\(train.output)")
        let skipped = train.output.first { $0.hasPrefix("skipped") }
        #expect(skipped?.contains(data) == true && skipped?.contains("line 5") == true && skipped?.contains("label \"maybe\"") == true,
                "\(train.output)")

        let evaluate = try Self.clickwise(["evaluate", bundle, "--data", data])
        #expect(evaluate.status == 0, "\(evaluate.output)")
        let rows = evaluate.output.first { $0.hasPrefix("rows:") } ?? ""
        #expect(rows.contains("600") && rows.contains("line 5: label \"maybe\""), "\(evaluate.output)")
    }
}

/// Issue 22: a BARS experiment copied from the benchmark trains unchanged, flags override it, and DCNv2 trains.
@Suite("FuxiCTR model configs through the CLI (real binary)")
struct ModelConfigCommandTests {
    static let movielens = ServeProcess.packageRoot + "/Tests/Fixtures/movielens"

    static func modelJSON(_ bundle: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: bundle + "/model.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("BARS' DeepFM experiment trains as written (batch norm, dropout, embedding regularizer); a flag overrides it")
    func barsExperimentTrains() throws {
        try #require(FileManager.default.fileExists(atPath: Self.movielens + "/train.csv"), "run `make fixtures`")
        let directory = try EveryDatasetTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = directory + "/deepfm"
        let train = try EveryDatasetTests.clickwise([
            "train", "--dataset-config", Self.movielens + "/dataset_config.yaml",
            "--model-config", ServeProcess.packageRoot + "/configs/movielens/model_config.yaml", "--experiment", "DeepFM_frappe_x1_001",
            "--out", bundle, "--epochs", "2", "--max-rows", "8000", "--max-validation-rows", "2000", "--net-dropout", "0.1",
            "--threads", "1", "--no-progress"])
        #expect(train.status == 0, "\(train.output)")
        #expect(train.output.contains { $0.contains("training deepfm") && $0.contains("experiment DeepFM_frappe_x1_001") && $0.contains("dataset ml100k_x1") },
                "\(train.output)")
        let configuration = try #require(try Self.modelJSON(bundle)["configuration"] as? [String: Any])
        let hyperparameters = try #require(configuration["hyperparameters"] as? [String: Any])
        let optimizer = try #require(configuration["optimizer"] as? [String: Any])
        #expect(hyperparameters["batch_norm"] as? Bool == true)
        #expect((hyperparameters["net_dropout"] as? Double).map { abs($0 - 0.1) < 1e-6 } == true)  // the flag won
        #expect(hyperparameters["embedding_dimension"] as? Int == 10)
        #expect((optimizer["embedding_regularizer"] as? Double).map { abs($0 - 0.05) < 1e-6 } == true)
        #expect(optimizer["embedding_l2"] as? Double == 0)
        #expect(configuration["batch_size"] as? Int == 4096 && configuration["seed"] as? Int == 2021)

        let evaluate = try EveryDatasetTests.clickwise(["evaluate", bundle, "--data", Self.movielens + "/test.csv", "--max-rows", "2000"])
        #expect(evaluate.status == 0, "\(evaluate.output)")
    }

    @Test("DCNv2 (stacked_parallel) trains, exports and evaluates from flags")
    func dcnv2Trains() throws {
        try #require(FileManager.default.fileExists(atPath: Self.movielens + "/train.csv"), "run `make fixtures`")
        let directory = try EveryDatasetTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = directory + "/dcnv2"
        let train = try EveryDatasetTests.clickwise([
            "train", "--dataset-config", Self.movielens + "/dataset_config.yaml", "--dataset-id", "ml100k_x1",
            "--architecture", "dcnv2", "--cross-structure", "stacked_parallel", "--stacked-hidden-units", "32", "--hidden-units", "64,32",
            "--batch-norm", "--embedding-dim", "8", "--out", bundle, "--epochs", "1", "--max-rows", "8000", "--max-validation-rows", "2000",
            "--threads", "1", "--no-progress"])
        #expect(train.status == 0, "\(train.output)")
        let evaluate = try EveryDatasetTests.clickwise(["evaluate", bundle, "--data", Self.movielens + "/test.csv", "--max-rows", "2000"])
        #expect(evaluate.status == 0, "\(evaluate.output)")
        #expect(evaluate.output.contains { $0.contains("(dcnv2)") }, "\(evaluate.output)")
    }

    @Test("a model config error is one line naming the file, the experiment and the key")
    func errors() throws {
        let directory = try EveryDatasetTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/m.yaml"
        try "x:\n  model: DeepFM\n  hiden_units: [8]\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try EveryDatasetTests.clickwise(["train", "--model-config", path, "--out", directory + "/b", "--train", "/dev/null"])
        #expect(result.status != 0)
        let errors = result.output.filter { $0.contains("rror") }
        #expect(errors.count == 1 && errors[0].contains(path) && errors[0].contains("experiment x") && errors[0].contains("did you mean hidden_units?"),
                "\(result.output)")
    }
}

/// Issue 22: `evaluate --report` writes a page a real browser renders with its plots.
@Suite("evaluate's HTML quality report in headless Chromium")
struct QualityReportTests {
    @Test("the report renders: a non-blank screenshot, the ROC curve, 10 calibration buckets and the training curves")
    func rendersInChromium() throws {
        let movielens = ModelConfigCommandTests.movielens
        try #require(FileManager.default.fileExists(atPath: movielens + "/train.csv"), "run `make fixtures`")
        let directory = try EveryDatasetTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = directory + "/deepfm"
        let train = try EveryDatasetTests.clickwise([
            "train", "--dataset-config", movielens + "/dataset_config.yaml", "--dataset-id", "ml100k_x1", "--architecture", "deepfm",
            "--hidden-units", "32", "--embedding-dim", "8", "--out", bundle, "--epochs", "3", "--max-rows", "10000",
            "--max-validation-rows", "2000", "--threads", "1", "--no-progress"])
        try #require(train.status == 0, "\(train.output)")
        let page = directory + "/report.html"
        let evaluate = try EveryDatasetTests.clickwise(["evaluate", bundle, "--data", movielens + "/test.csv", "--max-rows", "3000",
                                                        "--report", page])
        try #require(evaluate.status == 0, "\(evaluate.output)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: no script and nothing fetched from elsewhere.
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"))

        // The DOM as Chromium built it, and a screenshot.
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let browser = try #require(chromium, "chromium is not installed (scripts/setup.sh installs it)")
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1300"]
        let dump = try EveryDatasetTests.run(browser, flags + ["--dump-dom", "file://" + page], timeout: 120)
        let dom = dump.output.joined(separator: "\n")
        #expect(dom.contains("class=\"roc\""), "no ROC curve in the rendered DOM")
        #expect(dom.components(separatedBy: "class=\"bucket\"").count - 1 == 10, "expected 10 calibration buckets")
        #expect(dom.contains("class=\"valid-auc\"") && dom.contains("class=\"train-loss\""), "no training curves")
        let screenshot = directory + "/report.png"
        let shot = try EveryDatasetTests.run(browser, flags + ["--screenshot=" + screenshot, "file://" + page], timeout: 120)
        #expect(FileManager.default.fileExists(atPath: screenshot), "\(shot.output)")
        // Pixels: a blank page is one color; the plots put blue (ROC) and red (calibration) on white.
        let check = try EveryDatasetTests.run(EveryDatasetTests.python, ["-c", """
            import sys
            from PIL import Image
            image = Image.open(sys.argv[1]).convert("RGB")
            colors = image.getcolors(maxcolors=1 << 20) or []
            blue = sum(n for n, (r, g, b) in colors if b > 150 and r < 80)
            red = sum(n for n, (r, g, b) in colors if r > 180 and g < 80 and b < 80)
            print(f"size {image.size} colors {len(colors)} blue {blue} red {red}")
            sys.exit(0 if len(colors) > 50 and blue > 200 and red > 200 else 1)
            """, screenshot])
        #expect(check.status == 0, "\(check.output)")
    }
}
