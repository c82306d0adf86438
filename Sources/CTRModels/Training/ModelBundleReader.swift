import CTRFeatures
import Foundation
import ONNXRuntime

/// Reads a bundle trained here back into a model: the architecture and settings from model.json, the shape
/// from features.json, every weight from model.onnx's initializers by name.
///
/// Batch normalization is folded into its layer when exported, so the model comes back without it and with the
/// folded weights: the same predictions, not the same training state (no optimizer moments, no running
/// statistics). What needs only the forward pass (a second graph such as the ranking graph) can start here.
public enum ModelBundleReader {
    /// A bundle read back: its model, feature map and model card.
    public struct Loaded {
        public let model: any CTRModel
        public let featureMap: FeatureMap
        public let card: ModelCard
        /// The bundle's directory.
        public let path: String
    }

    /// Reads the bundle in `directory`; the error names the file and the weight that does not fit.
    public static func read(_ directory: URL) throws(CTRModelsError) -> Loaded {
        let featuresURL = directory.appendingPathComponent("features.json")
        let map: FeatureMap
        do {
            map = try FeatureMap(contentsOf: featuresURL)
        } catch {
            throw .cannotRead(path: featuresURL.path, reason: "\(error)")
        }
        guard map.encoding == .clickwise else {
            throw .mismatch("\(directory.path) was imported from FuxiCTR; only bundles trained by clickwise can be read back into a model")
        }
        let card = try ModelCard(contentsOf: directory.appendingPathComponent("model.json"))
        let configuration = card.configuration
        var hyperparameters = configuration.hyperparameters
        hyperparameters.batchNorm = false  // folded into the exported layers
        let shape = ModelShape(featureMap: map, denseEncoding: configuration.denseEncoding)
        let model = configuration.architecture.makeModel(shape: shape, hyperparameters: hyperparameters, maxBatch: 1, seed: configuration.seed)
        let path = directory.appendingPathComponent("model.onnx").path
        let file: ONNXModelFile
        do {
            file = try ONNXModelFile(path: path)
        } catch {
            throw .cannotRead(path: path, reason: error.message)
        }
        let byName = Dictionary(file.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func floats(_ name: String, count: Int) throws(CTRModelsError) -> [Float]? {
            guard let initializer = byName[name] else { return nil }
            guard initializer.elementType == .float, initializer.elementCount == count else {
                throw .mismatch("\(path): weight \"\(name)\" is \(initializer.elementType) \(initializer.dimensions), but model.json's \(configuration.architecture.rawValue) needs \(count) floats")
            }
            let bytes: [UInt8]
            do {
                bytes = try file.contents(of: initializer)
            } catch {
                throw .cannotRead(path: path, reason: error.message)
            }
            return bytes.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        }
        func load(_ name: String, into target: UnsafeMutablePointer<Float>, count: Int) throws(CTRModelsError) {
            guard let values = try floats(name, count: count) else {
                throw .mismatch("\(path) has no weight \"\(name)\", which model.json's \(configuration.architecture.rawValue) has: was the bundle trained by another version?")
            }
            target.update(from: values, count: count)
        }
        for table in model.embeddingTables { try load(table.name, into: table.value.pointer, count: table.value.count) }
        let projections = Set(attentionLayers(model).map { ObjectIdentifier($0.projection) })
        for parameter in model.parameters {
            if projections.contains(ObjectIdentifier(parameter)) { continue }
            try load(parameter.name, into: parameter.value.pointer, count: parameter.count)
        }
        // Attention projections are exported as one [input, A] block per Q, K, V (and the residual projection).
        for layer in attentionLayers(model) {
            let a = layer.attentionDimension, width = layer.projectionWidth, rows = layer.inputDimension
            for (index, suffix) in ["q", "k", "v", "res"].prefix(width / a).enumerated() {
                guard let block = try floats("\(layer.projection.name)_\(suffix)", count: rows * a) else {
                    throw .mismatch("\(path) has no weight \"\(layer.projection.name)_\(suffix)\"")
                }
                for r in 0..<rows {
                    for c in 0..<a { layer.projection.value[r * width + index * a + c] = block[r * a + c] }
                }
            }
        }
        return Loaded(model: model, featureMap: map, card: card, path: directory.path)
    }

    private static func attentionLayers(_ model: any CTRModel) -> [MultiHeadSelfAttention] {
        (model as? AutoInt)?.attention ?? []
    }
}
