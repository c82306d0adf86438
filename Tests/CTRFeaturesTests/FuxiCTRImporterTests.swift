import Foundation
import Testing
@testable import CTRFeatures

/// The importer on the committed FuxiCTR fixture (Tests/Fixtures/fuxictr, made by scripts/fuxictr_fixture):
/// its encoding of the 200 raw rows equals FuxiCTR's own `FeatureProcessor.transform`, and inconsistent
/// files are errors naming the file and the key.
@Suite struct FuxiCTRImporterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuxictr").path

    /// What the restricted unpickler reads from the fixture's feature_processor.pkl (the CLI tests check that part).
    static let processor = FuxiCTRProcessorSummary(
        datasetID: "fuxictr_tiny",
        tokenizers: [
            "user_id": .init(vocabularySize: 122, oovIndex: 121),
            "item_id": .init(vocabularySize: 202, oovIndex: 201),
            "cate": .init(vocabularySize: 14, oovIndex: 13),
            "click_items": .init(splitter: "^", maxLength: 5, padding: "pre", vocabularySize: 202, oovIndex: 201),
            "tags": .init(splitter: "^", maxLength: 4, padding: "post", vocabularySize: 32, oovIndex: 31),
        ],
        normalizers: [
            "price": .init(className: "StandardScaler", mean: 1320.2960533333332, scale: 907.6099005349291),
            "age": .init(className: "MinMaxScaler", scale: 0.0196078431372549, min: -0.35294117647058826),
        ])

    static func importer(processor: FuxiCTRProcessorSummary = processor, featureMap: Data? = nil,
                         vocabulary: Data? = nil) throws -> FuxiCTRImporter {
        let config = try DatasetConfig(contentsOf: URL(fileURLWithPath: fixtures + "/dataset_config.yaml"))
        return FuxiCTRImporter(
            config: config, featureMapPath: fixtures + "/feature_map.json",
            featureMapJSON: try featureMap ?? Data(contentsOf: URL(fileURLWithPath: fixtures + "/feature_map.json")),
            vocabularyPath: fixtures + "/feature_vocab.json",
            vocabularyJSON: try vocabulary ?? Data(contentsOf: URL(fileURLWithPath: fixtures + "/feature_vocab.json")),
            processorPath: fixtures + "/feature_processor.pkl", processor: processor)
    }

    @Test("the fixture's 200 raw rows encode exactly as FuxiCTR's FeatureProcessor.transform")
    func encodesLikeFuxiCTR() throws {
        let map = try Self.importer().makeFeatureMap(outputName: "y_pred")
        #expect(map.encoding == .fuxictr)
        #expect(map.schema.field(named: "tags")?.sequence?.padding == .post)  // from the tokenizer, as FuxiCTR pads
        let rows = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/raw_rows.json"))) as? [String: Any])["instances"] as? [[String: Any]]
        let encoded = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/encoded_rows.json"))) as? [String: Any])
        let instances = try #require(rows)
        #expect(instances.count == 200)
        let encoder = FeatureEncoder(map: map)
        let schema = map.schema
        var mismatches: [String] = []
        for (index, instance) in instances.enumerated() {
            let row = RawRow(dense: schema.numericFields.map { (instance[$0.name] as? NSNumber)?.doubleValue },
                             categorical: schema.categoricalFields.map { instance[$0.name] as? String },
                             sequences: schema.sequenceFields.map { instance[$0.name] as? String })
            var ids = [Int64](repeating: -1, count: encoder.categoricalCount)
            var dense = [Float](repeating: .nan, count: encoder.numericCount)
            var sequences = [Int64](repeating: -1, count: encoder.sequenceWidth)
            encoder.encode(row, ids: &ids, dense: &dense, sequences: &sequences)
            for (field, spec) in schema.categoricalFields.enumerated() {
                let expected = ((encoded[spec.name] as? [Any])?[index] as? NSNumber)?.int64Value
                if ids[field] != expected { mismatches.append("row \(index) \(spec.name): \(ids[field]) vs \(String(describing: expected))") }
            }
            for (field, spec) in schema.numericFields.enumerated() {
                let expected = ((encoded[spec.name] as? [Any])?[index] as? NSNumber).map { Float($0.doubleValue) }
                if dense[field] != expected { mismatches.append("row \(index) \(spec.name): \(dense[field]) vs \(String(describing: expected))") }
            }
            for (field, spec) in schema.sequenceFields.enumerated() {
                let expected = ((encoded[spec.name] as? [Any])?[index] as? [NSNumber])?.map(\.int64Value)
                let start = encoder.sequenceStarts[field]
                let got = Array(sequences[start..<(start + encoder.sequenceLengths[field])])
                if got != expected { mismatches.append("row \(index) \(spec.name): \(got) vs \(String(describing: expected))") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    @Test("inconsistent FuxiCTR files are errors naming the file and the key")
    func namesTheFileAndKey() throws {
        func error(_ make: () throws -> FuxiCTRImporter) -> FeatureMapError? {
            do {
                _ = try make().makeFeatureMap(outputName: "y_pred")
                return nil
            } catch let error as FeatureMapError {
                return error
            } catch {
                return nil
            }
        }
        // A normalizer the config declares but the pickle lacks.
        var noScaler = Self.processor
        noScaler.normalizers["price"] = nil
        let scaler = try #require(error { try Self.importer(processor: noScaler) })
        #expect(scaler.code == .invalidImport)
        #expect(scaler.path?.hasSuffix("feature_processor.pkl") == true)
        #expect(scaler.detail.contains("price::normalizer"))

        // feature_vocab.json without __OOV__ last.
        let vocabularyURL = URL(fileURLWithPath: Self.fixtures + "/feature_vocab.json")
        var vocabulary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: vocabularyURL)) as? [String: [String: Int]])
        vocabulary["cate"]?["__OOV__"] = nil
        let badVocabulary = try JSONSerialization.data(withJSONObject: vocabulary)
        let oov = try #require(error { try Self.importer(vocabulary: badVocabulary) })
        #expect(oov.path?.hasSuffix("feature_vocab.json") == true)
        #expect(oov.detail.contains("cate"))

        // feature_map.json listing the features in another order than the config.
        let mapURL = URL(fileURLWithPath: Self.fixtures + "/feature_map.json")
        var featureMap = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: mapURL)) as? [String: Any])
        var features = try #require(featureMap["features"] as? [Any])
        features.swapAt(0, 1)
        featureMap["features"] = features
        let order = try #require(error { try Self.importer(featureMap: try JSONSerialization.data(withJSONObject: featureMap)) })
        #expect(order.path?.hasSuffix("feature_map.json") == true)
        #expect(order.detail.contains("user_id") && order.detail.contains("item_id"))

        // A tokenizer whose vocabulary size disagrees with feature_vocab.json.
        var wrongSize = Self.processor
        wrongSize.tokenizers["tags"]?.vocabularySize = 40
        let size = try #require(error { try Self.importer(processor: wrongSize) })
        #expect(size.detail.contains("tags"))
    }
}
