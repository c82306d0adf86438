import CTRFeatures
import Foundation

/// One servable model version: `model.onnx`, its `features.json` when it serves raw features, and `model.json` when present.
///
/// Without `features.json` the directory is a plain ONNX model, served over KServe v2 with the tensors
/// its own signature names (as Triton's ONNX backend serves one).
public struct ModelBundle: Sendable {
    /// The name clients use in URLs.
    public let name: String
    /// The version directory's name ("1" for a bare bundle).
    public let version: String
    public let directory: String
    public let modelPath: String
    /// `ranking.onnx` beside `model.onnx` (a bundle trained with context fields: issue 24), if present.
    public let rankingPath: String?
    /// The schema, vocabulary sizes and signature from `features.json`; nil for a plain ONNX model. Its
    /// vocabulary values are released (they live in ``encoder``'s index) unless the bundle was loaded with
    /// `keepingVocabularyValues`.
    public let featureMap: FeatureMap?
    /// The encoder built from `features.json`, the one copy of the vocabulary every session pool of this
    /// version shares; nil for a plain ONNX model.
    public let encoder: FeatureEncoder?
    /// The training summary from `model.json` (architecture, metrics), kept verbatim for metadata.
    public let summary: [String: String]

    /// Loads the bundle in `directory`, failing with a message that names the missing or broken file.
    ///
    /// Tools that draw sample rows from the vocabularies pass `keepingVocabularyValues`; a server does not
    /// need them once the encoder is built.
    public init(directory: String, name: String, version: String, keepingVocabularyValues: Bool = false) throws(ServingError) {
        let modelPath = (directory as NSString).appendingPathComponent("model.onnx")
        let featuresPath = (directory as NSString).appendingPathComponent("features.json")
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw ServingError(.modelLoad, "model bundle \(directory) has no model.onnx")
        }
        if FileManager.default.fileExists(atPath: featuresPath) {
            let map: FeatureMap
            do {
                map = try FeatureMap(contentsOf: URL(fileURLWithPath: featuresPath))
            } catch {
                throw ServingError(.modelLoad, "cannot load \(featuresPath): \(error)")
            }
            let encoder = FeatureEncoder(map: map)
            featureMap = keepingVocabularyValues ? map : encoder.map
            self.encoder = encoder
        } else {
            featureMap = nil
            encoder = nil
        }
        self.name = name
        self.version = version
        self.directory = directory
        self.modelPath = modelPath
        let rankingPath = (directory as NSString).appendingPathComponent("ranking.onnx")
        self.rankingPath = featureMap != nil && FileManager.default.fileExists(atPath: rankingPath) ? rankingPath : nil
        summary = Self.readSummary((directory as NSString).appendingPathComponent("model.json"))
    }

    /// Top-level string and number fields of model.json; a missing or odd file gives an empty summary.
    private static func readSummary(_ path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case let string as String: result[key] = string
            case let number as NSNumber: result[key] = number.stringValue
            default: continue
            }
        }
        return result
    }
}
