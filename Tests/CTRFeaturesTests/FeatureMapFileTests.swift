import Foundation
import Testing
@testable import CTRFeatures

@Suite struct FeatureMapFileTests {
    @Test func roundTripsThroughFeaturesJSON() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var rows = (0..<200).map { i in row([0: "v\(i % 5)", 7: "ünï\(i % 2)", 25: "w\(i % 3)"], dense: [0: Int64(i), 12: -1]) }
        rows += repeated("tail", count: 3)
        var map = FeatureMap.fit(rows)
        map.outputName = "ctr"
        let url = directory.appendingPathComponent("features.json")
        try map.write(to: url)
        let loaded = try FeatureMap(contentsOf: url)
        #expect(loaded.vocabularies == map.vocabularies)
        #expect(loaded.denseScales == map.denseScales)
        #expect(loaded.minCount == map.minCount)
        #expect(loaded.rowCount == 203)
        #expect(loaded.outputName == "ctr")
        #expect(loaded.sparseInputName == "sparse_ids")
        #expect(loaded.fingerprint == map.fingerprint)
        #expect(map.denseMissingValue == FeatureMap.defaultDenseMissingValue)
        #expect(loaded.denseMissingValue == map.denseMissingValue)

        let a = FeatureEncoder(map: map), b = FeatureEncoder(map: loaded)
        for value in ["v0", "v4", "ünï1", "tail", "nope"] {
            #expect(a.categoricalID(field: 0, string: value) == b.categoricalID(field: 0, string: value))
            #expect(a.categoricalID(field: 7, string: value) == b.categoricalID(field: 7, string: value))
        }
    }

    @Test func aMapWithoutItsValuesKeepsIdsSizesSignatureAndFingerprint() throws {
        var rows = (0..<200).map { i in row([0: "v\(i % 5)", 7: "w\(i % 7)", 25: "x\(i % 3)"], dense: [0: Int64(i)]) }
        rows += repeated("tail", count: 3)
        let map = FeatureMap.fit(rows)
        let released = map.releasingVocabularyValues()
        #expect(map.hasVocabularyValues && !released.hasVocabularyValues)
        #expect(released.vocabularies.count == map.vocabularies.count)
        #expect(released.vocabularies.allSatisfy { $0.isEmpty })
        #expect(map.vocabularies.contains { !$0.isEmpty })
        #expect(released.fieldOffsets == map.fieldOffsets)
        #expect(released.fieldVocabularySizes == map.fieldVocabularySizes)
        #expect(released.totalVocabularySize == map.totalVocabularySize)
        #expect(released.sequencePaddingIDs == map.sequencePaddingIDs)
        #expect(released.signature == map.signature)
        #expect(released.fingerprint == map.fingerprint)
        // The encoder keeps only the released map; its ids still come from the values it indexed.
        let encoder = FeatureEncoder(map: map)
        #expect(!encoder.map.hasVocabularyValues)
        #expect(encoder.map.fingerprint == map.fingerprint)
        #expect(encoder.categoricalID(field: 0, string: "v0") == Int64(map.fieldOffsets[0] + FeatureMap.firstVocabularyIndex
                                                                     + map.vocabularies[0].firstIndex(of: "v0")!))
    }

    @Test func mapsWithoutDenseMissingValueKeepEncodingMissingAsZeroAndTheirFingerprint() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A features.json as written before denseMissingValue existed: the key absent, the old fingerprint.
        let old = try smallMap()
        #expect(old.denseMissingValue == 0)
        let text = String(decoding: old.jsonBytes(), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("denseMissingValue") }
        let url = directory.appendingPathComponent("features.json")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        let loaded = try FeatureMap(contentsOf: url)  // the recorded fingerprint still verifies
        #expect(loaded.denseMissingValue == 0)
        #expect(FeatureEncoder(map: loaded).denseValue(field: 3, raw: nil) == 0)

        // A new map encodes missing as -2, apart from a present 0, and the value is part of its identity.
        let new = try FeatureMap(vocabularies: old.vocabularies, denseScales: old.denseScales, minCount: 10, denseMissingValue: -2)
        let encoder = FeatureEncoder(map: new)
        #expect(encoder.denseValue(field: 3, raw: nil) == -2)
        #expect(encoder.denseValue(field: 3, raw: 0) == 0)
        #expect(new.fingerprint != old.fingerprint)
        try new.write(to: url)
        #expect(try FeatureMap(contentsOf: url).denseMissingValue == -2)
    }

    @Test func writesHumanReadableDocumentedJSON() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("features.json")
        try smallMap().write(to: url)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(object["formatVersion"] as? Int == 2)
        #expect(object["minCount"] as? Int == 10)
        #expect((object["fingerprint"] as? String)?.count == 64)
        #expect((object["denseTransform"] as? String)?.contains("floor(ln(v)^2)") == true)
        #expect((object["idScheme"] as? String)?.contains("out-of-vocabulary") == true)
        let signature = try #require(object["signature"] as? [String: Any])
        let inputs = try #require(signature["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["name"] as? String } == ["sparse_ids", "dense"])
        #expect(inputs.map { $0["shape"] as? [Int] } == [[-1, 26], [-1, 13]])
        #expect(inputs.map { $0["dtype"] as? String } == ["INT64", "FP32"])
        #expect((inputs[0]["fields"] as? [String])?.first == "C1")
        let outputs = try #require(signature["outputs"] as? [[String: Any]])
        #expect(outputs.first?["name"] as? String == "probability")
        let schema = try #require(object["schema"] as? [String: Any])
        let fields = try #require(schema["fields"] as? [[String: Any]])
        #expect(fields.count == 39)
        #expect(fields[0]["name"] as? String == "I1")
        #expect(fields[0]["preprocess"] as? String == "convert_to_bucket")
        #expect(fields[13]["kind"] as? String == "categorical")
        let categorical = try #require(object["categoricalFields"] as? [[String: Any]])
        #expect(categorical.count == 26)
        #expect(categorical[0]["name"] as? String == "C1")
        #expect(categorical[0]["vocabulary"] as? [String] == ["a", "b"])
        #expect(categorical[1]["offset"] as? Int == 4)
        let dense = try #require(object["numericFields"] as? [[String: Any]])
        #expect(dense[0]["name"] as? String == "I1")
        #expect(dense[0]["scale"] as? Double == 21)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\n  \"formatVersion\""))  // pretty-printed, one key per line
    }

    @Test func writtenBytesAreDeterministicAndEscaped() throws {
        var vocabularies = Array(repeating: [String](), count: CriteoSchema.categoricalCount)
        vocabularies[0] = ["quote\"d", "back\\slash", "tab\tnew\nline", "bell\u{7}", "ünïcødé 𝄞", "/"]
        let map = try FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 1.5, count: 13), minCount: 2)
        let bytes = map.jsonBytes()
        #expect(bytes == map.jsonBytes())
        let decoded = try JSONDecoder().decode(FeatureMap.self, from: Data(bytes))
        #expect(decoded.vocabularies == vocabularies)
        #expect(decoded.denseScales == map.denseScales)
        // Foundation's own encoding of the same map decodes to the same content.
        let viaEncoder = try JSONDecoder().decode(FeatureMap.self, from: JSONEncoder().encode(map))
        #expect(viaEncoder.fingerprint == decoded.fingerprint)
        let text = String(decoding: bytes, as: UTF8.self)
        let keys = text.split(separator: "\n").prefix(3).map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(keys[0] == "{")
        #expect(keys[1] == "\"formatVersion\" : 2,")
        #expect(keys[2].hasPrefix("\"fingerprint\" : \"\(map.fingerprint)\""))
    }

    /// Writes the small map, lets `edit` change the JSON object, writes it back, and returns the load error.
    private func loadError(_ edit: (inout [String: Any]) -> Void) throws -> FeatureMapError? {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("features.json")
        try smallMap().write(to: url)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        do {
            _ = try FeatureMap(contentsOf: url)
            return nil
        } catch {
            #expect(error.description.contains(url.path))
            return error
        }
    }

    @Test func editedVocabularyFailsTheFingerprintCheck() throws {
        let error = try loadError { object in
            var fields = object["categoricalFields"] as! [[String: Any]]
            fields[0]["vocabulary"] = ["a", "c"]
            object["categoricalFields"] = fields
        }
        #expect(error?.code == .fingerprintMismatch)
    }

    @Test func fileWithoutFingerprintStillLoads() throws {
        #expect(try loadError { $0["fingerprint"] = nil } == nil)
    }

    @Test func reportsEachKindOfCorruption() throws {
        #expect(try loadError { $0["formatVersion"] = 4 }?.code == .unsupportedVersion)
        #expect(try loadError { $0["signature"] = nil }?.code == .malformedJSON)
        #expect(try loadError { $0["signature"] = nil }?.detail.contains("signature") == true)
        #expect(try loadError { $0["minCount"] = "ten" }?.code == .malformedJSON)
        let renamed = try loadError { object in
            var fields = object["numericFields"] as! [[String: Any]]
            fields[3]["name"] = "I99"
            object["numericFields"] = fields
        }
        #expect(renamed?.code == .schemaMismatch)
        let badScale = try loadError { object in
            var fields = object["numericFields"] as! [[String: Any]]
            fields[3]["scale"] = 0
            object["numericFields"] = fields
        }
        #expect(badScale?.code == .invalidScale)
        #expect(badScale?.detail.contains("I4") == true)
        let badOffset = try loadError { object in
            var fields = object["categoricalFields"] as! [[String: Any]]
            fields[2]["offset"] = 5
            object["categoricalFields"] = fields
        }
        #expect(badOffset?.code == .schemaMismatch)
        #expect(badOffset?.detail.contains("C3") == true)
        let duplicate = try loadError { object in
            var fields = object["categoricalFields"] as! [[String: Any]]
            fields[0]["vocabulary"] = ["a", "a"]
            object["categoricalFields"] = fields
        }
        #expect(duplicate?.code == .invalidVocabulary)
        let wrongSignature = try loadError { object in
            var signature = object["signature"] as! [String: Any]
            var inputs = signature["inputs"] as! [[String: Any]]
            inputs[0]["shape"] = [-1, 25]
            signature["inputs"] = inputs
            object["signature"] = signature
        }
        #expect(wrongSignature?.code == .schemaMismatch)
    }

    /// The shipped bundles' features.json files are version 1: they load as the Criteo preset with the
    /// fingerprint recorded in their model.json, and re-encode to the same bytes.
    @Test func shippedVersionOneBundlesKeepTheirFingerprint() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for model in ["deepfm", "autoint"] {
            let bundle = root.appendingPathComponent("models/\(model)/1")
            let map = try FeatureMap(contentsOf: bundle.appendingPathComponent("features.json"))
            #expect(map.version == 1)
            #expect(map.schema.isCriteo)
            let card = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: bundle.appendingPathComponent("model.json"))) as? [String: Any])
            #expect(card["feature_map_fingerprint"] as? String == map.fingerprint)
            #expect(map.jsonBytes() == Array(try Data(contentsOf: bundle.appendingPathComponent("features.json"))))
        }
    }

    @Test func truncatedOrMissingFileNamesTheFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("features.json")
        try smallMap().write(to: url)
        let data = try Data(contentsOf: url)
        try data.prefix(data.count / 2).write(to: url)
        do {
            _ = try FeatureMap(contentsOf: url)
            Issue.record("a truncated file loaded")
        } catch {
            #expect(error.code == .malformedJSON)
            #expect(error.description.contains(url.path))
        }
        let missing = directory.appendingPathComponent("absent.json")
        do {
            _ = try FeatureMap(contentsOf: missing)
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description.contains("absent.json"))
        }
    }
}
