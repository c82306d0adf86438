import ArgumentParser
import CTRFeatures
import Foundation
import ONNXRuntime

extension ImportCommand {
    /// `clickwise import fuxictr DIR --out BUNDLE`: a FuxiCTR model and its feature processor as a servable bundle.
    struct FuxiCTR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fuxictr",
            abstract: "Turn what FuxiCTR wrote (feature_map.json, feature_vocab.json, feature_processor.pkl, the ONNX export) into a bundle.",
            discussion: """
                DIR holds FuxiCTR's feature_map.json, feature_vocab.json and feature_processor.pkl; the model is an ONNX \
                export with one input per feature, named after it (default DIR/model.onnx), and the dataset config the \
                processor was built from (default DIR/dataset_config.yaml). The bundle's features.json encodes raw rows \
                exactly as FuxiCTR's FeatureProcessor.transform does. The pickle is read by a restricted unpickler that \
                refuses any class outside FuxiCTR's, scikit-learn's scalers and numpy arrays, and never runs its code.
                """)

        @Argument(help: "The directory FuxiCTR's FeatureProcessor wrote (feature_map.json, feature_vocab.json, feature_processor.pkl).")
        var directory: String

        @Option(help: "The bundle directory to write (model.onnx, features.json, model.json).")
        var out: String

        @Option(name: [.customLong("onnx"), .customLong("model")],
                help: "The ONNX file FuxiCTR's model was exported to (default: DIR/model.onnx; --model: the old name, deprecated).")
        var model: String?

        @Option(name: .customLong("dataset-config"), help: "FuxiCTR's dataset_config.yaml (default: DIR/dataset_config.yaml).")
        var datasetConfig: String?

        @Option(name: .customLong("dataset-id"), help: "The dataset in the config (default: its only one).")
        var datasetID: String?

        @Option(help: "The Python 3 that runs the restricted unpickler (default: the project's .venv, else python3 on PATH); it needs only the standard library.")
        var python: String?

        @OptionGroup var runtimeOptions: RuntimeOptions

        func run() throws {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(directory): no such directory")
            }
            func inside(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
            let modelPath = model ?? inside("model.onnx")
            let configPath = datasetConfig ?? inside("dataset_config.yaml")
            let config: DatasetConfig
            do {
                config = try DatasetConfig(contentsOf: URL(fileURLWithPath: configPath), datasetID: datasetID)
            } catch {
                throw CLIError("\(error)")
            }
            let processorPath = inside("feature_processor.pkl")
            let processor = try FuxiCTRPickleReader(python: FuxiCTRPickleReader.locatePython(explicit: python)).read(processorPath)
            let featureMapPath = inside("feature_map.json"), vocabularyPath = inside("feature_vocab.json")
            let session = try openModel(modelPath)
            guard let output = session.outputs.first else { throw CLIError("\(modelPath) has no outputs") }
            let map: FeatureMap
            do {
                let importer = FuxiCTRImporter(
                    config: config, featureMapPath: featureMapPath, featureMapJSON: try Self.contents(featureMapPath),
                    vocabularyPath: vocabularyPath, vocabularyJSON: try Self.contents(vocabularyPath),
                    processorPath: processorPath, processor: processor)
                map = try importer.makeFeatureMap(outputName: output.name)
            } catch let error as FeatureMapError {
                throw CLIError("\(error)")
            }
            try Self.check(session, against: map.signature, path: modelPath)

            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let target = (out as NSString).appendingPathComponent("model.onnx")
                if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                try FileManager.default.copyItem(atPath: modelPath, toPath: target)
                try map.write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("features.json")))
                let card: [String: Any] = ["framework": "FuxiCTR", "importedFrom": directory, "datasetId": map.schema.datasetID,
                                           "encoding": map.encoding.rawValue, "fingerprint": map.fingerprint]
                try JSONSerialization.data(withJSONObject: card, options: [.prettyPrinted, .sortedKeys])
                    .write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("model.json")))
            } catch let error as FeatureMapError {
                throw CLIError("\(error)")
            } catch {
                throw CLIError("cannot write \(out): \(error.localizedDescription)")
            }
            print("imported FuxiCTR dataset \(map.schema.datasetID) into \(out): \(map.schema.fields.count) features "
                  + "(\(map.schema.categoricalFields.count) categorical, \(map.schema.numericFields.count) numeric, "
                  + "\(map.schema.sequenceFields.count) sequence), one ONNX input each; output \(map.outputName)")
            for input in map.signature.inputs {
                print("  \(input.name) \(input.elementType.rawValue) \(input.shape)")
            }
        }

        private func openModel(_ path: String) throws -> ORTSession {
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path): no such file (pass --model FILE)") }
            let runtime = try runtimeOptions.loadRuntime()
            do {
                let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .fatal))
                let options = try ORTSessionOptions(runtime: runtime)
                try options.setIntraOpThreads(1)
                return try ORTSession(path: path, options: options, environment: environment)
            } catch {
                throw CLIError("\(path): \(error.message)")
            }
        }

        private static func contents(_ path: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): no such file") }
            return data
        }

        /// The export must take exactly one input per feature, in the feature map's order, typed and shaped as FuxiCTR feeds them.
        static func check(_ session: ORTSession, against signature: ModelSignature, path: String) throws {
            let expected = signature.inputs
            func describe(_ tensor: ModelSignature.Tensor) -> String {
                "\(tensor.name) \(tensor.elementType.rawValue) \(tensor.shape.map { $0 < 0 ? "batch" : String($0) })"
            }
            guard session.inputs.map(\.name) == expected.map(\.name) else {
                throw CLIError("\(path) takes inputs \(session.inputs.map(\.name)); FuxiCTR's feature map needs one per feature, in order: "
                               + expected.map(describe).joined(separator: ", "))
            }
            for (input, tensor) in zip(session.inputs, expected) {
                let type: ORTElementType = tensor.elementType == .int64 ? .int64 : .float
                let inner = tensor.shape.dropFirst().map(Int64.init)
                guard input.elementType == type, input.shape.count == tensor.shape.count, Array(input.shape.dropFirst()) == inner else {
                    throw CLIError("\(path) input \(input.name) is \(input); FuxiCTR feeds it as \(describe(tensor))")
                }
            }
            guard session.outputs.count >= 1, let output = session.outputs.first, output.elementType == .float,
                  output.shape.count == 2, output.shape[1] == 1 else {
                throw CLIError("\(path) output is \(session.outputs); expected FuxiCTR's y_pred FP32 [batch, 1]")
            }
        }
    }
}
