import Foundation

/// The contents of a bundle's model.json: architecture, hyper-parameters, data summary, metrics.
public struct ModelCard: Codable, Sendable, Equatable {
    /// Version of this file's layout.
    public var formatVersion = 1
    /// Model family.
    public var architecture: ModelArchitecture
    /// The whole training configuration (hyper-parameters, optimizer, batch size, seed, ...).
    public var configuration: TrainingConfiguration
    /// Training and validation data.
    public var data: DataSummary
    /// Per-epoch metrics, in order.
    public var epochs: [EpochReport]
    /// Epoch whose weights were kept (best validation AUC).
    public var bestEpoch: Int
    /// Validation AUC of the kept weights.
    public var validationAUC: Double?
    /// Validation log loss of the kept weights.
    public var validationLogLoss: Double
    /// Mean training throughput over all epochs, rows per second.
    public var trainRowsPerSecond: Double
    /// Trainable scalars.
    public var parameterCount: Int
    /// Feature map fingerprint, also in model.onnx metadata.
    public var featureMapFingerprint: String
    /// Model input and output tensor names.
    public var sparseInput: String
    /// Name of the dense input.
    public var denseInput: String
    /// Name of the probability output.
    public var output: String
    /// ONNX opset of model.onnx.
    public var opset: Int64 = ONNXExporter.opsetVersion
    /// Producer tag.
    public var producer = ONNXExporter.producer
    /// ISO-8601 time the bundle was written.
    public var created: String
    /// The bundle this one was warm-started from (`train --warm-start`): its feature map's fingerprint and path.
    public var parent: Parent?

    /// A warm start's parent bundle.
    public struct Parent: Codable, Sendable, Equatable {
        public var featureMapFingerprint: String
        public var path: String
    }

    // model.json is snake_case: "validationAUC" encodes as "validation_auc", which decodes back as
    // "validationAuc", so that key is spelled so here, or reading model.json would drop the AUC.
    private enum CodingKeys: String, CodingKey {
        case formatVersion, architecture, configuration, data, epochs, bestEpoch
        case validationAUC = "validationAuc"
        case validationLogLoss, trainRowsPerSecond, parameterCount, featureMapFingerprint, sparseInput, denseInput, output
        case opset, producer, created, parent
    }

    /// Reads a model.json.
    public init(contentsOf url: URL) throws(CTRModelsError) {
        do {
            let data = try Data(contentsOf: url)
            self = try Self.decoder.decode(ModelCard.self, from: data)
        } catch {
            throw .cannotRead(path: url.path, reason: "\(error)")
        }
    }

    init(
        configuration: TrainingConfiguration, data: DataSummary, epochs: [EpochReport], bestEpoch: Int,
        parameterCount: Int, sparseInput: String, denseInput: String, output: String
    ) {
        architecture = configuration.architecture
        self.configuration = configuration
        self.data = data
        self.epochs = epochs
        self.bestEpoch = bestEpoch
        let best = epochs.first { $0.epoch == bestEpoch }
        validationAUC = best?.validationAUC
        validationLogLoss = best?.validationLogLoss ?? .nan
        let rows = epochs.reduce(0) { $0 + $1.trainRows }
        let seconds = epochs.reduce(0) { $0 + $1.trainSeconds }
        trainRowsPerSecond = seconds > 0 ? Double(rows) / seconds : 0
        self.parameterCount = parameterCount
        featureMapFingerprint = data.featureMapFingerprint
        self.sparseInput = sparseInput
        self.denseInput = denseInput
        self.output = output
        created = ISO8601DateFormatter().string(from: Date())
    }

    /// Writes pretty, key-sorted snake_case JSON.
    public func write(to url: URL) throws(CTRModelsError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            try data.write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: "\(error.localizedDescription)")
        }
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
