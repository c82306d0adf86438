import Foundation
import Testing
@testable import CTRFeatures

@Suite struct DatasetConfigTests {
    private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func read(_ yaml: String, dataset: String? = nil) throws(FeatureSchemaError) -> DatasetConfig {
        try DatasetConfig(yaml: yaml, path: "/data/x/dataset_config.yaml", datasetID: dataset)
    }

    private func failure(_ yaml: String, dataset: String? = nil) -> FeatureSchemaError? {
        do {
            _ = try read(yaml, dataset: dataset)
            return nil
        } catch {
            return error
        }
    }

    private let minimal = """
        ds:
          data_format: csv
          train_data: train.csv
          label_col: {name: clk, dtype: float}
          feature_cols:
            - {name: user, active: true, dtype: str, type: categorical}
        """

    @Test func criteoPresetFileIsTheBuiltInPreset() throws {
        let config = try DatasetConfig(contentsOf: repository.appendingPathComponent("configs/criteo/dataset_config.yaml"))
        #expect(config.schema.isCriteo)
        #expect(config.schema.fields == FeatureSchema.criteo.fields)
        #expect(config.schema.minCount == 10)
        #expect(config.isCriteoLayout)
        #expect(config.separator == UInt8(ascii: "\t"))
    }

    @Test func tinyConfigDeclaresEveryKind() throws {
        let config = try DatasetConfig(contentsOf: repository.appendingPathComponent("configs/tiny/dataset_config.yaml"))
        let schema = config.schema
        #expect(schema.datasetID == "tiny_taobao")
        #expect(schema.label == "clk")
        #expect(schema.inactiveColumns == ["time_stamp"])
        #expect(schema.categoricalFields.count == 15)
        #expect(schema.numericFields.map(\.name) == ["price"])
        #expect(schema.numericFields[0].normalizer == .standardScaler)
        let sequence = try #require(schema.sequenceFields.first)
        #expect(sequence.name == "click_sequence")
        #expect(sequence.sequence == FeatureSchema.Sequence(splitter: "^", maxLength: 5, padding: .pre, sharedWith: "adgroup_id"))
        #expect(config.trainData == repository.appendingPathComponent("configs/tiny/train.csv").path)
        #expect(!config.isCriteoLayout)
        // The ranking sides: the user profile, the page and the click sequence once per request.
        #expect(schema.categoricalFields.map(\.name) == ["userid", "adgroup_id", "pid", "cate_id", "campaign_id", "customer", "brand",
                                                          "cms_segid", "cms_group_id", "final_gender_code", "age_level", "pvalue_level",
                                                          "shopping_level", "occupation", "new_user_class_level"])
        #expect(schema.contextFields.map(\.name) == ["userid", "pid", "cms_segid", "cms_group_id", "final_gender_code", "age_level",
                                                      "pvalue_level", "shopping_level", "occupation", "new_user_class_level", "click_sequence"])
        #expect(schema.fields.first { $0.name == "price" }?.source == "item")
    }

    @Test func sourceMarksTheRankingSideAndMustBeText() throws {
        let config = try read("""
            ds:
              label_col: {name: clk, dtype: float}
              feature_cols:
                - {name: [u, a], type: categorical, source: user}
                - {name: i, type: categorical, source: item}
                - {name: p, type: categorical, source: ""}
                - {name: h, type: categorical, source: context}
            """)
        #expect(config.schema.contextFields.map(\.name) == ["u", "a", "h"])
        #expect(config.schema.fields.map(\.source) == ["user", "user", "item", nil, "context"])
        #expect(throws: FeatureSchemaError.self) {
            try read("""
                ds:
                  label_col: {name: clk, dtype: float}
                  feature_cols:
                    - {name: u, type: categorical, source: [user]}
                """)
        }
    }

    @Test func pathsAreRelativeToTheConfigFile() throws {
        let config = try read(minimal)
        #expect(config.trainData == "/data/x/train.csv")
        #expect(config.validData == nil)
    }

    @Test func nameListsShareSettingsAndInactiveColumnsAreKept() throws {
        let config = try read("""
            ds:
              label_col: {name: clk, dtype: float}
              feature_cols:
                - {name: [a, b], active: true, dtype: int, type: categorical, fill_na: "0", min_categr_count: 3}
                - {name: c, active: false, dtype: str, type: categorical}
                - {name: g, type: meta}
                - {name: p, active: true, dtype: float, type: numeric, fill_na: 1.5, normalizer: MinMaxScaler}
            """)
        #expect(config.schema.fields.map(\.name) == ["a", "b", "p"])
        #expect(config.schema.fields[1].fillNA == "0")
        #expect(config.schema.fields[1].minCount == 3)
        #expect(config.schema.fields[1].valueType == .int)
        #expect(config.schema.fields[2].fillNA == "1.5")
        #expect(config.schema.fields[2].normalizer == .minMaxScaler)
        #expect(config.schema.inactiveColumns == ["c", "g"])
    }

    @Test func trainerOnlyKeysAreAccepted() throws {
        let config = try read("""
            ds:
              data_root: ../data/
              rebuild_dataset: true
              label_col: {name: clk, dtype: float}
              feature_cols:
                - {name: u, active: true, dtype: str, type: categorical, source: user, embedding_dim: 8}
            """)
        #expect(config.schema.fields.count == 1)
    }

    @Test func typoIsAnErrorWithASuggestionNamingFileDatasetAndKey() throws {
        let error = try #require(failure(minimal.replacingOccurrences(of: "dtype: str, type", with: "dtpye: str, type")))
        #expect(error.code == .unknownKey)
        #expect(error.description.contains("/data/x/dataset_config.yaml"))
        #expect(error.description.contains("dataset ds"))
        #expect(error.description.contains("feature_cols[0].dtpye"))
        #expect(error.description.contains("did you mean dtype?"))
        #expect(!error.description.contains("\n"))
        let top = try #require(failure(minimal.replacingOccurrences(of: "train_data", with: "trian_data")))
        #expect(top.key == "trian_data")
        #expect(top.detail.contains("did you mean train_data?"))
    }

    @Test(arguments: [
        ("type: categorical", "type: embedding", "feature_cols[0].type"),
        ("type: categorical", "type: categorical, category_processor: x", "feature_cols[0].category_processor"),
        ("data_format: csv", "data_format: parquet", "data_format"),
        ("data_format: csv", "data_format: csv\n  item_info: items.csv", "item_info"),
    ])
    func unsupportedEncodingKeysNameTheKey(from: String, to: String, key: String) throws {
        let error = try #require(failure(minimal.replacingOccurrences(of: from, with: to)))
        #expect(error.code == .unsupported)
        #expect(error.key == key)
        #expect(error.path == "/data/x/dataset_config.yaml")
        #expect(error.dataset == "ds")
    }

    @Test func unknownTypeAndBadValuesAreErrors() throws {
        #expect(failure(minimal.replacingOccurrences(of: "type: categorical", with: "type: cateogrical"))?.code == .invalidValue)
        #expect(failure(minimal.replacingOccurrences(of: "dtype: str", with: "dtype: string"))?.code == .invalidValue)
        #expect(failure(minimal.replacingOccurrences(of: "active: true", with: "active: maybe"))?.code == .invalidValue)
        #expect(failure(minimal + "\n  sep: \"ab\"")?.key == "sep")
        #expect(failure(minimal.replacingOccurrences(of: "  label_col: {name: clk, dtype: float}\n", with: ""))?.key == "label_col")
        #expect(failure("ds: [1, 2]")?.code == .malformedYAML)
        #expect(failure("ds: {a: [")?.code == .malformedYAML)
    }

    @Test func datasetChoice() throws {
        let two = minimal + "\n" + minimal.replacingOccurrences(of: "ds:", with: "other:")
        #expect(failure(two)?.code == .unknownDataset)
        #expect(try read(two, dataset: "other").schema.datasetID == "other")
        #expect(failure(minimal, dataset: "nope")?.code == .unknownDataset)
    }

    @Test func fieldContradictionsAreErrors() throws {
        let shareMissing = minimal + "\n    - {name: s, active: true, dtype: str, type: sequence, share_embedding: nope}"
        #expect(failure(shareMissing)?.code == .invalidField)
        let duplicate = minimal + "\n    - {name: user, active: true, dtype: str, type: categorical}"
        #expect(failure(duplicate)?.detail.contains("user") == true)
        let stray = minimal.replacingOccurrences(of: "type: categorical", with: "type: categorical, max_len: 3")
        #expect(failure(stray)?.code == .invalidField)
        let stringNumber = minimal.replacingOccurrences(of: "type: categorical", with: "type: numeric")
        #expect(failure(stringNumber)?.code == .invalidField)
    }

    @Test func missingFileIsOneLineNamingIt() {
        do {
            _ = try DatasetConfig(contentsOf: URL(fileURLWithPath: "/nonexistent/dataset_config.yaml"))
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description == "/nonexistent/dataset_config.yaml: unreadable file: no such file")
        }
    }
}
