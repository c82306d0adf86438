import CTRGRPCProtocol
import Foundation
import SwiftProtobuf
import Testing

/// Bytes our generated messages write, read back by Triton's own generated Python classes
/// (tritonclient.grpc.service_pb2): every field set here must come back with its value, so a wrong
/// field number, type or enum value fails (Triton's parser would drop or misread it).
@Suite struct TritonMessageTests {
    static let decode = #"""
import os, sys
from google.protobuf import json_format
import tritonclient.grpc.service_pb2 as service
directory = sys.argv[1]
for file in sorted(os.listdir(directory)):
    name = file[:-len(".bin")]
    message = getattr(service, name).FromString(open(os.path.join(directory, file), "rb").read())
    print(name + "\t" + json_format.MessageToJson(message, indent=None))
print("END")
"""#

    static func parameters() -> [String: Inference_InferParameter] {
        var parameters: [String: Inference_InferParameter] = [:]
        parameters["flag"] = .with { $0.boolParam = true }
        parameters["timeout"] = .with { $0.int64Param = -5_000 }
        parameters["name"] = .with { $0.stringParam = "ranking" }
        parameters["scale"] = .with { $0.doubleParam = 0.25 }
        parameters["priority"] = .with { $0.uint64Param = 1 << 40 }
        return parameters
    }

    static func contents() -> Inference_InferTensorContents {
        .with {
            $0.boolContents = [true, false]
            $0.intContents = [-1, 2]
            $0.int64Contents = [-(1 << 40), 3]
            $0.uintContents = [7]
            $0.uint64Contents = [1 << 50]
            $0.fp32Contents = [0.5, -2.25]
            $0.fp64Contents = [1e-300]
            $0.bytesContents = [Data("a b".utf8), Data([0, 255])]
        }
    }

    static func modelConfig() -> Inference_ModelConfig {
        .with {
            $0.name = "deepfm"
            $0.platform = "onnxruntime_onnx"
            $0.backend = "onnxruntime"
            $0.maxBatchSize = 64
            $0.input = [
                .with { $0.name = "sparse_ids"; $0.dataType = .typeInt64; $0.dims = [26] },
                .with { $0.name = "I1"; $0.dataType = .typeFp32; $0.dims = [1]; $0.reshape = .with { $0.shape = [] } },
                .with { $0.name = "flags"; $0.dataType = .typeBool; $0.dims = [2]; $0.reshape = .with { $0.shape = [1, 2] } },
            ]
            $0.output = [.with { $0.name = "probability"; $0.dataType = .typeFp32; $0.dims = [1] }]
            $0.dynamicBatching = .with { $0.preferredBatchSize = [16, 64]; $0.maxQueueDelayMicroseconds = 500 }
            $0.instanceGroup = [.with { $0.name = "deepfm_cpu"; $0.kind = .cpu; $0.count = 2 }]
            $0.parameters = ["bundle_fingerprint": .with { $0.stringValue = "abc123" }]
        }
    }

    static func duration(_ count: UInt64) -> Inference_StatisticDuration {
        .with { $0.count = count; $0.ns = count * 1_000 + 7 }
    }

    /// One value of every message a Triton client sends or reads, with every field we keep set.
    static func messages() -> [String: any SwiftProtobuf.Message] {
        let inferRequest = Inference_ModelInferRequest.with {
            $0.modelName = "deepfm"
            $0.modelVersion = "1"
            $0.id = "request-7"
            $0.parameters = parameters()
            $0.inputs = [
                .with { $0.name = "sparse_ids"; $0.datatype = "INT64"; $0.shape = [2, 26]; $0.parameters = parameters() },
                .with { $0.name = "I1"; $0.datatype = "FP32"; $0.shape = [2]; $0.contents = contents() },
            ]
            $0.outputs = [.with { $0.name = "probability"; $0.parameters = ["binary_data": .with { $0.boolParam = true }] }]
            $0.rawInputContents = [Data(repeating: 1, count: 2 * 26 * 8)]
        }
        let inferResponse = Inference_ModelInferResponse.with {
            $0.modelName = "deepfm"
            $0.modelVersion = "1"
            $0.id = "request-7"
            $0.parameters = parameters()
            $0.outputs = [.with {
                $0.name = "probability"; $0.datatype = "FP32"; $0.shape = [2, 1]
                $0.parameters = parameters(); $0.contents = contents()
            }]
            $0.rawOutputContents = [Data([0, 0, 0, 63, 0, 0, 128, 62])]
        }
        return [
            "ModelInferRequest": inferRequest,
            "ModelInferResponse": inferResponse,
            "ModelStreamInferResponse": Inference_ModelStreamInferResponse.with {
                $0.errorMessage = "row 1: id out of range"; $0.inferResponse = inferResponse
            },
            "ModelConfigRequest": Inference_ModelConfigRequest.with { $0.name = "deepfm"; $0.version = "1" },
            "ModelConfigResponse": Inference_ModelConfigResponse.with { $0.config = modelConfig() },
            "ModelReadyRequest": Inference_ModelReadyRequest.with { $0.name = "deepfm"; $0.version = "2" },
            "ModelReadyResponse": Inference_ModelReadyResponse.with { $0.ready = true },
            "ServerLiveResponse": Inference_ServerLiveResponse.with { $0.live = true },
            "ServerReadyResponse": Inference_ServerReadyResponse.with { $0.ready = true },
            "ServerMetadataResponse": Inference_ServerMetadataResponse.with {
                $0.name = "clickwise"; $0.version = "0.1"; $0.extensions = ["model_configuration", "statistics"]
            },
            "ModelMetadataRequest": Inference_ModelMetadataRequest.with { $0.name = "deepfm"; $0.version = "1" },
            "ModelMetadataResponse": Inference_ModelMetadataResponse.with {
                $0.name = "deepfm"; $0.versions = ["1", "2"]; $0.platform = "onnxruntime_onnx"
                $0.inputs = [.with { $0.name = "sparse_ids"; $0.datatype = "INT64"; $0.shape = [-1, 26] }]
                $0.outputs = [.with { $0.name = "probability"; $0.datatype = "FP32"; $0.shape = [-1, 1] }]
            },
            "ModelStatisticsRequest": Inference_ModelStatisticsRequest.with { $0.name = "deepfm"; $0.version = "1" },
            "ModelStatisticsResponse": Inference_ModelStatisticsResponse.with {
                $0.modelStats = [.with {
                    $0.name = "deepfm"; $0.version = "1"; $0.lastInference = 1_764_000_000_000
                    $0.inferenceCount = 120; $0.executionCount = 30
                    $0.inferenceStats = .with {
                        $0.success = duration(1); $0.fail = duration(2); $0.queue = duration(3)
                        $0.computeInput = duration(4); $0.computeInfer = duration(5); $0.computeOutput = duration(6)
                        $0.cacheHit = duration(7); $0.cacheMiss = duration(8)
                    }
                    $0.batchStats = [.with {
                        $0.batchSize = 4; $0.computeInput = duration(9); $0.computeInfer = duration(10); $0.computeOutput = duration(11)
                    }]
                }]
            },
            "RepositoryIndexRequest": Inference_RepositoryIndexRequest.with { $0.repositoryName = "models"; $0.ready = true },
            "RepositoryIndexResponse": Inference_RepositoryIndexResponse.with {
                $0.models = [.with { $0.name = "deepfm"; $0.version = "1"; $0.state = "UNAVAILABLE"; $0.reason = "unloaded" }]
            },
            "RepositoryModelLoadRequest": Inference_RepositoryModelLoadRequest.with {
                $0.repositoryName = "models"; $0.modelName = "deepfm"
                $0.parameters = [
                    "config": .with { $0.stringParam = "{}" }, "flag": .with { $0.boolParam = true },
                    "n": .with { $0.int64Param = -3 }, "file:1/model.onnx": .with { $0.bytesParam = Data([1, 2, 3]) },
                ]
            },
            "RepositoryModelUnloadRequest": Inference_RepositoryModelUnloadRequest.with {
                $0.repositoryName = "models"; $0.modelName = "deepfm"
                $0.parameters = ["unload_dependents": .with { $0.boolParam = true }]
            },
        ]
    }

    /// Whether `json` (Triton's rendering) decodes as `M` to exactly `message`.
    static func decodes<M: SwiftProtobuf.Message>(_ json: String, to message: M) throws -> Bool {
        try M(jsonString: json).isEqualTo(message: message)
    }

    @Test func tritonsClassesReadEveryFieldWeWrite() async throws {
        let messages = Self.messages()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-wire-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, message) in messages {
            try message.serializedData().write(to: directory.appendingPathComponent(name + ".bin"))
        }

        let (status, lines) = try await TritonPython.run(Self.decode, [directory.path])
        #expect(status == 0, "\(lines.joined(separator: "\n"))")
        var decoded: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { decoded[String(parts[0])] = String(parts[1]) }
        }
        #expect(Set(decoded.keys) == Set(messages.keys))
        // Triton's JSON of what it parsed, read back as our type: equal only if every field survived.
        for (name, message) in messages {
            let json = try #require(decoded[name], "Triton's classes did not print \(name)")
            #expect(try Self.decodes(json, to: message), "\(name): Triton read \(json)")
        }
    }
}
