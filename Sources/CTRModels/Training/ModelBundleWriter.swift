import CTRFeatures
import Foundation

/// Writes a model bundle directory: model.onnx, features.json and model.json, plus ranking.onnx when the schema
/// marks context fields (`source: user|context`): the graph `:rank` runs, the context computed once per request.
public enum ModelBundleWriter {
    /// The ranking graph's file name in a bundle.
    public static let rankingFile = "ranking.onnx"

    /// Creates `directory` if needed and writes the three files of `outcome` into it (and `model.onnx.data` when
    /// the weights exceed `externalDataAbove` bytes: see `ONNXExporter.Options.externalDataAbove`).
    public static func write(_ outcome: Trainer.Outcome, to directory: URL,
                             externalDataAbove: Int? = ONNXExporter.automaticExternalDataBytes) throws(CTRModelsError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory.path, reason: error.localizedDescription)
        }
        do {
            try outcome.featureMap.write(to: directory.appendingPathComponent("features.json"))
        } catch {
            throw .cannotWrite(path: directory.appendingPathComponent("features.json").path, reason: "\(error)")
        }
        var options = ONNXExporter.Options()
        options.sparseInput = outcome.featureMap.sparseInputName
        options.denseInput = outcome.featureMap.denseInputName
        options.sequenceInput = outcome.featureMap.sequenceInputName
        options.outputName = outcome.featureMap.outputName
        options.featureMapFingerprint = outcome.featureMap.fingerprint
        options.externalDataAbove = externalDataAbove
        try ONNXExporter.write(outcome.model, options: options, to: directory.appendingPathComponent("model.onnx"))
        let ranking = directory.appendingPathComponent(rankingFile)
        if try !ONNXExporter.writeRanking(outcome.model, schema: outcome.featureMap.schema, options: options, to: ranking) {
            // A retrained bundle whose schema lost its context fields must not keep a stale ranking graph.
            try? FileManager.default.removeItem(at: ranking)
            try? FileManager.default.removeItem(at: ranking.appendingPathExtension("data"))
        }
        try outcome.card.write(to: directory.appendingPathComponent("model.json"))
    }
}
