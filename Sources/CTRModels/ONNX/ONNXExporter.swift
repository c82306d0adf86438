import Foundation

/// Writes a trained model as an ONNX `ModelProto` that ONNX Runtime runs on CPU.
///
/// Graph: `sparse_ids` int64 [batch, sparseFields] and `dense` float [batch, denseFields] in (plus
/// `sequence_ids` int64 [batch, totalSequenceLength] when the shape has sequence fields),
/// `probability` float [batch, 1] out, with a symbolic batch dimension; ir_version 8, opset 17.
public enum ONNXExporter {
    /// ONNX IR version written.
    public static let irVersion: Int64 = 8
    /// Default-domain opset the graph uses.
    public static let opsetVersion: Int64 = 17
    /// `producer_name` and the `producer` metadata value.
    public static let producer = "clickwise"

    /// Tensor names and metadata for an export.
    public struct Options: Sendable {
        /// Name of the int64 [batch, sparseFields] input.
        public var sparseInput = "sparse_ids"
        /// Name of the float [batch, denseFields] input.
        public var denseInput = "dense"
        /// Name of the int64 [batch, totalSequenceLength] input; only models with sequence fields have it.
        public var sequenceInput = "sequence_ids"
        /// Name of the float [batch, 1] output.
        public var outputName = "probability"
        /// Fingerprint of the feature map the ids come from (metadata `feature_map_fingerprint`).
        public var featureMapFingerprint = ""
        /// More `metadata_props` entries.
        public var extraMetadata: [String: String] = [:]
        /// Weights larger in total than this many bytes go to an external data file next to the model (ONNX's
        /// protobuf cannot exceed 2 GB); 0 always writes external data, nil never does.
        public var externalDataAbove: Int? = ONNXExporter.automaticExternalDataBytes

        /// Default names, empty fingerprint.
        public init() {}
    }

    /// Total weight size above which `write` uses external data by default: half of protobuf's 2 GB limit, so the
    /// rest of the message and future growth never get near it.
    public static let automaticExternalDataBytes = 1 << 30

    /// A serialized model and, when its weights are external, the side file's contents.
    public struct Files: Sendable {
        /// The `ModelProto`.
        public let model: [UInt8]
        /// The external data file (named by `externalData.location`, relative to the model), if any.
        public let externalData: ONNXExternalData?
    }

    /// The serialized model with every weight inline (ignores `externalDataAbove`).
    public static func export(_ model: any CTRModel, options: Options = .init()) -> [UInt8] {
        var inline = options
        inline.externalDataAbove = nil
        return export(model, options: inline, externalDataLocation: "").model
    }

    /// The serialized model; weights go to `externalDataLocation` when they exceed `options.externalDataAbove`.
    public static func export(_ model: any CTRModel, options: Options, externalDataLocation: String) -> Files {
        var graph = ONNXGraphBuilder(sparseInput: options.sparseInput, denseInput: options.denseInput,
                                     sequenceInput: options.sequenceInput, outputName: options.outputName)
        let batch = ONNXGraphBuilder.Dimension.symbolic("batch")
        // An input with no fields is left out (ModelSignature does the same); Criteo models have both.
        if model.shape.sparseFields > 0 {
            graph.addInput(options.sparseInput, .int64, [batch, .fixed(model.shape.sparseFields)])
        }
        if model.shape.denseFields > 0 {
            graph.addInput(options.denseInput, .float, [batch, .fixed(model.shape.denseFields)])
        }
        // Without sequence fields the graph is exactly the two-input graph older servers expect.
        if !model.shape.sequenceFields.isEmpty {
            graph.addInput(options.sequenceInput, .int64, [batch, .fixed(model.shape.totalSequenceLength)])
        }
        let logit = model.exportLogit(into: &graph)
        graph.node("Sigmoid", [logit], output: options.outputName)
        graph.addOutput(options.outputName, .float, [batch, .fixed(1)])

        return encode(graph, model: model, options: options, metadata: options.extraMetadata, externalDataLocation: externalDataLocation)
    }

    /// The `ModelProto` around `graph`, with the model's metadata beside `metadata`.
    static func encode(_ graph: ONNXGraphBuilder, model: any CTRModel, options: Options, metadata extra: [String: String],
                       externalDataLocation: String) -> Files {
        var metadata = extra
        metadata["architecture"] = model.architecture.rawValue
        metadata["feature_map_fingerprint"] = options.featureMapFingerprint
        metadata["producer"] = producer

        // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7,
        // opset_import = 8 (domain = 1, version = 2), metadata_props = 14 (key = 1, value = 2).
        var external: ONNXExternalData?
        if let limit = options.externalDataAbove, graph.initializerByteCount > limit {
            external = ONNXExternalData(location: externalDataLocation)
        }
        var writer = ProtobufWriter()
        writer.int(1, irVersion)
        writer.string(2, producer)
        writer.string(3, "1")
        var graphWriter = ProtobufWriter()
        graph.encode(name: "clickwise_\(model.architecture.rawValue)", into: &graphWriter, externalData: &external)
        writer.data(7, graphWriter.bytes)
        writer.message(8) { opset in
            opset.string(1, "")
            opset.int(2, opsetVersion)
        }
        for key in metadata.keys.sorted() {
            writer.message(14) { entry in
                entry.string(1, key)
                entry.string(2, metadata[key] ?? "")
            }
        }
        return Files(model: writer.bytes, externalData: external)
    }

    /// Writes the model to `url` and, when its weights are external, them to `url` + ".data" beside it.
    public static func write(_ model: any CTRModel, options: Options = .init(), to url: URL) throws(CTRModelsError) {
        let dataURL = url.appendingPathExtension("data")
        try write(export(model, options: options, externalDataLocation: dataURL.lastPathComponent), to: url)
    }

    /// Writes `files` to `url` and its external data, if any, to `url` + ".data".
    static func write(_ files: Files, to url: URL) throws(CTRModelsError) {
        let dataURL = url.appendingPathExtension("data")
        // The data file first: a model that names a missing file must never appear, even for a moment.
        do {
            if let external = files.externalData {
                try Data(external.bytes).write(to: dataURL, options: .atomic)
            } else if FileManager.default.fileExists(atPath: dataURL.path) {
                try FileManager.default.removeItem(at: dataURL)
            }
        } catch {
            throw .cannotWrite(path: dataURL.path, reason: "\(error.localizedDescription)")
        }
        do {
            try Data(files.model).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: "\(error.localizedDescription)")
        }
    }
}
