import CTRFeatures
import ClickwiseTestSupport
import Foundation
import Testing

/// `clickwise import fuxictr` as a process: the restricted unpickler reads FuxiCTR's real pickle into the
/// scaler constants the server applies, refuses pickles naming any other class without running them, and
/// every failure is one line naming the file.
@Suite("clickwise import fuxictr")
struct FuxiCTRImportTests {
    static let fixtures = ServeProcess.packageRoot + "/Tests/Fixtures/fuxictr"

    static func run(_ arguments: [String]) throws -> (status: Int32, output: [String]) {
        let process = try ServeProcess.clickwise(arguments)
        let status = try process.waitForExit(timeout: 120)
        return (status, process.output)
    }

    /// A copy of the fixture directory whose feature_processor.pkl is `pickle`.
    static func fixtureCopy(pickle: [UInt8]? = nil, removing: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-fuxi-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: fixtures, toPath: directory)
        if let pickle { try Data(pickle).write(to: URL(fileURLWithPath: directory + "/feature_processor.pkl")) }
        if let removing { try FileManager.default.removeItem(atPath: directory + "/" + removing) }
        return directory
    }

    @Test("the real pickle's StandardScaler and MinMaxScaler constants reach features.json")
    func readsTheScalers() throws {
        let directory = try Self.fixtureCopy()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["import", "fuxictr", directory, "--out", directory + "/bundle"])
        #expect(result.status == 0, "\(result.output)")
        let map = try FeatureMap(contentsOf: URL(fileURLWithPath: directory + "/bundle/features.json"))
        #expect(map.schema.numericFields.map(\.name) == ["ctx_plain", "price", "age", "score"])
        #expect(map.numericShifts == [0, 1320.2960533333332, -0.35294117647058826, 0])
        #expect(map.denseScales == [1, 907.6099005349291, 0.0196078431372549, 1])
        #expect(map.schema.field(named: "score")?.fillNA == "-1.0")
        #expect(FileManager.default.fileExists(atPath: directory + "/bundle/model.onnx"))

        // evaluate and encode read imported bundles too (issue 21: one input per feature, fed as the server feeds
        // them): FuxiCTR's own predictions for the fixture's raw rows, from a CSV of those rows.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/raw_rows.json"))) as? [String: Any]
        let rows = try #require(raw?["instances"] as? [[String: Any]])
        let columns = ["user_id", "item_id", "cate", "ctx_plain", "price", "age", "score", "note", "click_items", "tags"]
        let csv = (["clk," + columns.joined(separator: ",")] + rows.map { row in
            "0," + columns.map { row[$0].map { "\($0)" } ?? "" }.joined(separator: ",")
        }).joined(separator: "\n") + "\n"
        try csv.write(toFile: directory + "/raw.csv", atomically: true, encoding: .utf8)
        let evaluate = try Self.run(["evaluate", directory + "/bundle", "--data", directory + "/raw.csv", "--predictions", directory + "/p.txt"])
        #expect(evaluate.status == 0, "\(evaluate.output)")
        let expectedObject = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/expected_predictions.json"))) as? [String: Any]
        let expected = try #require(expectedObject?["predictions"] as? [Double])
        let predicted = try String(contentsOfFile: directory + "/p.txt", encoding: .utf8).split(separator: "\n").map { Double($0)! }
        #expect(predicted.count == expected.count)
        let worst = zip(predicted, expected).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "evaluate on the imported bundle vs FuxiCTR's predictions: \(worst)")
        let encode = try Self.run(["encode", directory + "/bundle", "--data", directory + "/raw.csv", "--out", directory + "/enc"])
        #expect(encode.status == 0, "\(encode.output)")
        for input in map.signature.inputs where input.role != .probability {
            #expect(FileManager.default.fileExists(atPath: directory + "/enc.\(input.name).npy"), "\(input.name)")
        }
    }

    /// A pickle that would call `refused` with a command creating `marker`, if anything executed it.
    static func hostilePickle(_ refused: String, marker: String) -> [UInt8] {
        func short(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
        switch refused {
        case "os.system":  // protocol 0
            return Array("cos\nsystem\n(S'touch \(marker)'\ntR.".utf8)
        case "builtins.exec":  // protocol 2: exec("open(MARKER, 'w')")
            let code = Array("open('\(marker)', 'w')".utf8)
            return [0x80, 0x02] + Array("cbuiltins\nexec\n".utf8) + [0x58] + withUnsafeBytes(of: UInt32(code.count).littleEndian, Array.init)
                + code + [0x85, 0x52, 0x2E]
        default:  // protocol 4, STACK_GLOBAL: subprocess.call(["touch", MARKER])
            return [0x80, 0x04] + short("subprocess") + short("call") + [0x93, 0x28] + short("touch") + short(marker)
                + [0x6C, 0x85, 0x52, 0x2E]
        }
    }

    @Test("pickles naming a class outside the allow-list are refused by name, and nothing in them runs",
          arguments: ["os.system", "builtins.exec", "subprocess.call"])
    func refusesOtherClasses(refused: String) throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-pwned-\(UUID().uuidString)").path
        let directory = try Self.fixtureCopy(pickle: Self.hostilePickle(refused, marker: marker))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["import", "fuxictr", directory, "--out", directory + "/bundle"])
        #expect(result.status != 0)
        let errors = result.output.filter { $0.contains("rror") }
        #expect(errors.count == 1, "\(result.output)")
        #expect(errors.first?.contains("refusing class \(refused)") == true, "\(result.output)")
        #expect(errors.first?.contains(directory + "/feature_processor.pkl") == true, "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the pickle's code ran")
        #expect(!FileManager.default.fileExists(atPath: directory + "/bundle/features.json"))
    }

    @Test("a missing file, a damaged pickle or a wrong model is one error line naming the file")
    func namesTheFile() throws {
        let noVocabulary = try Self.fixtureCopy(removing: "feature_vocab.json")
        let damaged = try Self.fixtureCopy(pickle: [0x80, 0x04, 0x95, 0x10])
        let wrongModel = try Self.fixtureCopy()
        defer { for path in [noVocabulary, damaged, wrongModel] { try? FileManager.default.removeItem(atPath: path) } }
        let cases: [([String], [String])] = [
            (["import", "fuxictr", noVocabulary, "--out", noVocabulary + "/b"], [noVocabulary + "/feature_vocab.json", "no such file"]),
            (["import", "fuxictr", damaged, "--out", damaged + "/b"], [damaged + "/feature_processor.pkl", "not a readable"]),
            (["import", "fuxictr", wrongModel, "--out", wrongModel + "/b",
              "--model", ServeProcess.packageRoot + "/Tests/Fixtures/criteo_tiny.onnx"], ["criteo_tiny.onnx", "one per feature"]),
            (["import", "fuxictr", wrongModel, "--out", wrongModel + "/b", "--dataset-id", "nope"], ["dataset_config.yaml", "nope"]),
        ]
        for (arguments, fragments) in cases {
            let result = try Self.run(arguments)
            #expect(result.status != 0)
            let errors = result.output.filter { $0.contains("rror") }
            #expect(errors.count == 1, "\(result.output)")
            for fragment in fragments { #expect(errors.first?.contains(fragment) == true, "\(fragment) not in \(result.output)") }
        }
    }
}
