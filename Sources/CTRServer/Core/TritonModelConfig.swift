import CTRGRPCProtocol
import CTRServing
import Foundation
import SwiftProtobuf

/// A model's Triton `config.pbtxt`, read with swift-protobuf's text format into the `ModelConfig` message
/// the gRPC front end answers with, then turned into the serving core's ``ModelServingSpec``.
///
/// Looked for where Triton keeps it, the model directory (`<repository>/<model>/config.pbtxt`), and in a
/// bare bundle's own directory. Settings Clickwise cannot honour are an error naming the key; a model
/// without the file keeps the configuration inferred from its ONNX file.
enum TritonModelConfig {
    /// The spec for `bundle`, or nil when it has no `config.pbtxt`.
    static func spec(for bundle: ModelBundle) throws(ServingError) -> ModelServingSpec? {
        let own = (bundle.directory as NSString).appendingPathComponent("config.pbtxt")
        let parent = (bundle.directory as NSString).deletingLastPathComponent
        let shared = (parent as NSString).appendingPathComponent("config.pbtxt")
        let path: String
        if FileManager.default.fileExists(atPath: own) {
            path = own
        } else if (parent as NSString).lastPathComponent == bundle.name, FileManager.default.fileExists(atPath: shared) {
            path = shared
        } else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServingError(.modelLoad, "\(path): cannot read it")
        }
        return try spec(text: String(decoding: data, as: UTF8.self), path: path, model: bundle.name)
    }

    /// The spec `text` states (the content of `path`, for model `model`).
    static func spec(text: String, path: String, model: String) throws(ServingError) -> ModelServingSpec {
        func fail(_ key: String, _ message: String) -> ServingError { ServingError(.modelLoad, "\(path): \(key): \(message)") }
        let config: Inference_ModelConfig
        do {
            config = try Inference_ModelConfig(textFormatString: text)
        } catch {
            if let (key, line) = unknownKey(in: text) {
                throw fail(key, "line \(line): not a setting Clickwise reads (it reads \(knownKeys.sorted().joined(separator: ", ")))")
            }
            throw ServingError(.modelLoad, "\(path): not a valid Triton model configuration (protobuf text format): \(error)")
        }
        guard config.name.isEmpty || config.name == model else {
            throw fail("name", "\"\(config.name)\", but the model directory is \"\(model)\" (Triton requires them to match)")
        }
        let platforms: Set<String> = ["", "onnxruntime_onnx", "onnxruntime"]
        guard platforms.contains(config.platform), platforms.contains(config.backend) else {
            throw fail(config.platform.isEmpty ? "backend" : "platform",
                       "\"\(config.platform.isEmpty ? config.backend : config.platform)\": Clickwise serves ONNX models (onnxruntime_onnx)")
        }
        if config.hasVersionPolicy {
            let newestOnly: Bool
            switch config.versionPolicy.policyChoice {
            case .latest(let latest): newestOnly = latest.numVersions <= 1
            case .none: newestOnly = true
            default: newestOnly = false
            }
            guard newestOnly else {
                throw fail("version_policy", "Clickwise serves the newest version of each model: only latest { num_versions: 1 } is supported")
            }
        }
        if !config.parameters.isEmpty {
            throw fail("parameters", "\(config.parameters.keys.sorted()): backend parameters are not supported (serve's flags set ONNX Runtime's threads)")
        }
        var instances: Int?
        if !config.instanceGroup.isEmpty {
            for group in config.instanceGroup where group.kind == .gpu {
                throw fail("instance_group kind", "KIND_GPU: Clickwise runs on the CPU")
            }
            instances = config.instanceGroup.reduce(0) { $0 + max(1, Int($1.count)) }
        }
        func type(_ datatype: Inference_DataType, _ key: String) throws(ServingError) -> TensorElementType {
            switch datatype {
            case .typeBool: return .bool
            case .typeUint8: return .uint8
            case .typeUint16: return .uint16
            case .typeUint32: return .uint32
            case .typeUint64: return .uint64
            case .typeInt8: return .int8
            case .typeInt16: return .int16
            case .typeInt32: return .int32
            case .typeInt64: return .int64
            case .typeFp16: return .fp16
            case .typeFp32: return .fp32
            case .typeFp64: return .fp64
            case .typeBf16: return .bf16
            case .typeString: throw fail(key, "TYPE_STRING tensors are not served")
            default: throw fail(key, "a data_type is required")
            }
        }
        var inputs: [ModelServingSpec.Input] = []
        for input in config.input {
            inputs.append(ModelServingSpec.Input(
                name: input.name, elementType: try type(input.dataType, "input \"\(input.name)\" data_type"), dims: input.dims,
                reshape: input.hasReshape ? input.reshape.shape : nil, ragged: input.allowRaggedBatch))
        }
        var outputs: [ModelServingSpec.Output] = []
        for output in config.output {
            if output.hasReshape { throw fail("output \"\(output.name)\" reshape", "output reshapes are not supported") }
            outputs.append(ModelServingSpec.Output(name: output.name, elementType: try type(output.dataType, "output \"\(output.name)\" data_type"),
                                                   dims: output.dims))
        }
        var batchInputs: [ModelServingSpec.BatchInput] = []
        for batchInput in config.batchInput {
            let kind: ModelServingSpec.BatchInputKind
            switch batchInput.kind {
            case .batchElementCount: kind = .elementCount
            case .batchAccumulatedElementCount: kind = .accumulatedElementCount
            case .batchAccumulatedElementCountWithZero: kind = .accumulatedElementCountWithZero
            default:
                throw fail("batch_input kind", "\(batchInput.kind): supported are BATCH_ELEMENT_COUNT, BATCH_ACCUMULATED_ELEMENT_COUNT and BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO")
            }
            guard batchInput.sourceInput.count == 1 else {
                throw fail("batch_input source_input", "\(batchInput.sourceInput): exactly one source input")
            }
            guard !batchInput.targetName.isEmpty else { throw fail("batch_input target_name", "is required") }
            for target in batchInput.targetName {
                batchInputs.append(ModelServingSpec.BatchInput(kind: kind, target: target,
                                                               elementType: try type(batchInput.dataType, "batch_input \"\(target)\" data_type"),
                                                               source: batchInput.sourceInput[0]))
            }
        }
        var dynamic = false, preferred: Int?, delay: Int?
        if case .dynamicBatching(let batching) = config.schedulingChoice {
            dynamic = true
            preferred = batching.preferredBatchSize.max().map(Int.init)
            if let preferred, config.maxBatchSize > 0, preferred > Int(config.maxBatchSize) {
                throw fail("dynamic_batching preferred_batch_size", "\(preferred) is more than max_batch_size \(config.maxBatchSize)")
            }
            delay = batching.maxQueueDelayMicroseconds > 0 ? Int(clamping: batching.maxQueueDelayMicroseconds) : nil
        }
        return ModelServingSpec(path: path, maxBatchSize: Int(config.maxBatchSize), inputs: inputs, outputs: outputs, batchInputs: batchInputs,
                                dynamicBatching: dynamic, preferredBatchSize: preferred, maxQueueDelayMicroseconds: delay,
                                instanceCount: instances)
    }

    /// The field names of the `ModelConfig` message Clickwise reads (its trimmed copy of Triton's).
    static let knownKeys: Set<String> = [
        "name", "platform", "backend", "version_policy", "latest", "all", "specific", "num_versions", "versions",
        "max_batch_size", "input", "output", "data_type", "dims", "reshape", "shape", "allow_ragged_batch",
        "batch_input", "kind", "target_name", "source_input", "dynamic_batching", "preferred_batch_size",
        "max_queue_delay_microseconds", "preserve_ordering", "instance_group", "count", "parameters", "key", "value",
        "string_value",
    ]

    /// The first key of `text` that is not one of ``knownKeys``, with its line: what the decoder refused.
    static func unknownKey(in text: String) -> (String, Int)? {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            if let comment = rest.firstIndex(of: "#") { rest = rest[..<comment] }
            // Keys are identifiers followed by ':' or a '{' / '[' block; values after ':' are skipped.
            var index = rest.startIndex
            while index < rest.endIndex {
                let character = rest[index]
                if character.isLetter || character == "_" {
                    let start = index
                    while index < rest.endIndex, rest[index].isLetter || rest[index].isNumber || rest[index] == "_" { index = rest.index(after: index) }
                    let word = String(rest[start..<index])
                    var next = index
                    while next < rest.endIndex, rest[next] == " " || rest[next] == "\t" { next = rest.index(after: next) }
                    let isKey = next < rest.endIndex && (rest[next] == ":" || rest[next] == "{" || rest[next] == "[")
                    if isKey && !knownKeys.contains(word) { return (word, number + 1) }
                    if isKey, rest[next] == ":" {
                        // Skip the value (an enum name or a number) so it is not read as a key.
                        index = rest.index(after: next)
                        while index < rest.endIndex, rest[index] == " " { index = rest.index(after: index) }
                        while index < rest.endIndex, !" ,{}[]\"".contains(rest[index]) { index = rest.index(after: index) }
                    }
                    continue
                }
                if character == "\"" {
                    // Skip a quoted string.
                    index = rest.index(after: index)
                    while index < rest.endIndex, rest[index] != "\"" { index = rest.index(after: index) }
                }
                if index < rest.endIndex { index = rest.index(after: index) }
            }
        }
        return nil
    }
}
