import ClickwiseTestSupport
@testable import CTRServing
import Foundation
import Testing
@testable import CTRServer

/// A Triton model repository served as it is: `config.pbtxt` read with swift-protobuf's text format, a
/// DLRM-style EmbeddingBag export (scripts/make_dlrm_fixture.py) batched across concurrent requests with its
/// ragged ids concatenated and its offsets built per run, checked by Triton's own clients against Python's
/// onnxruntime (scripts/triton_repository_check.py); and the settings Clickwise refuses, each naming its key.
@Suite("Triton model repositories with config.pbtxt")
struct TritonRepositoryTests {
    static let repository = ServeProcess.packageRoot + "/Tests/Fixtures/triton"

    @Test("the real binary serves Triton's layout: ragged EmbeddingBag batching and max_batch_size 0 equal onnxruntime over HTTP and gRPC")
    func servesTritonRepository() throws {
        let (served, port, grpcPort) = try ServeProcessTests.serveBoth(["--model", Self.repository])
        defer { served.stop() }
        let check = try ServeProcess(ServeProcessTests.python, [ServeProcess.packageRoot + "/scripts/triton_repository_check.py",
                                                                "127.0.0.1:\(port)", "127.0.0.1:\(grpcPort)", Self.repository],
                                     label: "triton-repository")
        let status = try check.waitForExit(timeout: 180)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0 && check.output.contains("0 failed"), "\(check.output)")
    }

    static func spec(_ text: String) throws(ServingError) -> ModelServingSpec {
        try TritonModelConfig.spec(text: text, path: "m/config.pbtxt", model: "m")
    }

    static func refusal(_ text: String) -> String {
        do {
            _ = try spec(text)
            return "accepted"
        } catch {
            return error.message
        }
    }

    @Test("config.pbtxt's settings become the serving spec")
    func readsSettings() throws {
        let spec = try Self.spec("""
            name: "m"
            platform: "onnxruntime_onnx"
            max_batch_size: 8
            input [ { name: "x", data_type: TYPE_FP32, dims: [ 1 ], reshape: { shape: [ ] } },
                    { name: "ids", data_type: TYPE_INT64, dims: [ -1 ], allow_ragged_batch: true } ]
            batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, target_name: "offsets", data_type: TYPE_INT64, source_input: "ids" } ]
            output [ { name: "y", data_type: TYPE_FP32, dims: [ 1 ] } ]
            dynamic_batching { preferred_batch_size: [ 4, 8 ], max_queue_delay_microseconds: 500 }
            instance_group [ { count: 2, kind: KIND_CPU }, { count: 1 } ]
            """)
        #expect(spec.maxBatchSize == 8 && spec.dynamicBatching && spec.preferredBatchSize == 8 && spec.maxQueueDelayMicroseconds == 500)
        #expect(spec.instanceCount == 3)
        #expect(spec.inputs == [ModelServingSpec.Input(name: "x", elementType: .fp32, dims: [1], reshape: []),
                                ModelServingSpec.Input(name: "ids", elementType: .int64, dims: [-1], ragged: true)])
        #expect(spec.batchInputs == [ModelServingSpec.BatchInput(kind: .accumulatedElementCountWithZero, target: "offsets", elementType: .int64, source: "ids")])
    }

    @Test("settings Clickwise cannot honour are refused naming the key", arguments: [
        ("max_batch_size: 4\nsequence_batching { }", "sequence_batching"),
        ("max_batch_size: 4\ninput [ { name: \"x\", data_type: TYPE_FP32, dims: [ 1 ], format: FORMAT_NHWC } ]", "format"),
        ("version_policy: { all: { } }", "version_policy"),
        ("platform: \"tensorflow_savedmodel\"", "platform"),
        ("name: \"other\"", "name"),
        ("instance_group [ { kind: KIND_GPU } ]", "instance_group kind"),
        ("parameters { key: \"intra_op_thread_count\" value: { string_value: \"2\" } }", "parameters"),
        ("max_batch_size: 4\nbatch_input [ { kind: BATCH_ITEM_SHAPE, target_name: \"s\", data_type: TYPE_INT32, source_input: \"x\" } ]", "batch_input kind"),
        ("max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }", "preferred_batch_size"),
        ("output [ { name: \"y\", data_type: TYPE_FP32, dims: [ 1 ], reshape: { shape: [ ] } } ]", "reshape"),
    ])
    func refusesUnsupported(_ text: String, _ key: String) {
        let message = Self.refusal(text)
        #expect(message.contains("m/config.pbtxt") && message.contains(key), "\(message)")
    }

    @Test("the model is checked against the config when it loads, naming the key")
    func checksAgainstTheModel() throws {
        let inputs = [TensorDescription(name: "dense", elementType: .fp32, shape: [-1, 4]),
                      TensorDescription(name: "ids", elementType: .int64, shape: [-1]),
                      TensorDescription(name: "offsets", elementType: .int64, shape: [-1])]
        let outputs = [TensorDescription(name: "p", elementType: .fp32, shape: [-1, 1])]
        func problem(_ text: String) -> String {
            do {
                _ = try ModelPool.plan(try Self.spec(text), inputs: inputs, outputs: outputs)
                return "accepted"
            } catch {
                return error.message
            }
        }
        let good = """
            max_batch_size: 16
            input [ { name: "dense", data_type: TYPE_FP32, dims: [ 4 ] }, { name: "ids", data_type: TYPE_INT64, dims: [ -1 ], allow_ragged_batch: true } ]
            batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO, target_name: "offsets", data_type: TYPE_INT64, source_input: "ids" } ]
            """
        #expect(problem(good) == "accepted")
        let plan = try ModelPool.plan(try Self.spec(good), inputs: inputs, outputs: outputs)
        #expect(plan.requestInputs.map(\.shape) == [[-1, 4], [-1, -1]] && plan.plan.ragged == [1] && !plan.plan.isIdentity)
        #expect(problem(good.replacingOccurrences(of: "dims: [ 4 ]", with: "dims: [ 5 ]")).contains("input \"dense\" dims"))
        #expect(problem(good.replacingOccurrences(of: "TYPE_FP32", with: "TYPE_FP64")).contains("input \"dense\" data_type"))
        #expect(problem(good.replacingOccurrences(of: "target_name: \"offsets\"", with: "target_name: \"nope\"")).contains("batch_input target_name \"nope\""))
        #expect(problem(good.replacingOccurrences(of: "source_input: \"ids\"", with: "source_input: \"x\"")).contains("source_input \"x\""))
        let noOffsets = "max_batch_size: 16\ninput [ { name: \"dense\", data_type: TYPE_FP32, dims: [ 4 ] }, { name: \"ids\", data_type: TYPE_INT64, dims: [ -1 ], allow_ragged_batch: true } ]"
        #expect(problem(noOffsets).contains("\"offsets\" is neither a config input nor a batch_input target"))
        let fixed = [TensorDescription(name: "a", elementType: .fp32, shape: [2, 3])]
        do {
            _ = try ModelPool.plan(try Self.spec("max_batch_size: 4"), inputs: fixed, outputs: [TensorDescription(name: "b", elementType: .fp32, shape: [2, 3])])
            Issue.record("a fixed first dimension was batched")
        } catch {
            #expect(error.message.contains("max_batch_size") && error.message.contains("max_batch_size: 0"), "\(error.message)")
        }
        let unbatched = try ModelPool.plan(try Self.spec("max_batch_size: 0"), inputs: fixed, outputs: [TensorDescription(name: "b", elementType: .fp32, shape: [2, 3])])
        #expect(unbatched.requestInputs.map(\.shape) == [[2, 3]] && unbatched.plan.isIdentity)
    }
}
