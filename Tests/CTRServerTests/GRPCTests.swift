import CTRFeatures
import CTRGRPCProtocol
import CTRServing
import ClickwiseTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import Testing
@testable import CTRServer

/// A gRPC front end beside a test server's HTTP one, over the same core.
struct GRPCTestServer {
    let http: TestServer
    let grpc: GRPCFrontEnd
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let task: Task<Void, Error>

    static func start(pool: PoolConfiguration = PoolConfiguration(), model: String = "criteo_tiny.onnx", names: [String] = ["tiny"],
                      options: GRPCFrontEnd.Options = GRPCFrontEnd.Options(),
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> GRPCTestServer {
        let http = try await TestServer.start(pool: pool, model: model, names: names, configure: configure)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let grpc = GRPCFrontEnd(core: http.application, host: "127.0.0.1", port: 0, group: group, options: options)
        let port = try grpc.bind()
        let task = Task(executorPreference: DispatchTaskExecutor.shared) { try await grpc.run() }
        return GRPCTestServer(http: http, grpc: grpc, port: port, group: group, task: task)
    }

    /// Drains gRPC (in-flight calls finish), then HTTP and the pools.
    func stop() async {
        grpc.beginGracefulShutdown()
        _ = try? await task.value
        await http.stop()
        try? await group.shutdownGracefully()
    }

    /// Runs `body` with a client of the inference service.
    func withClient<T: Sendable>(_ body: @Sendable (Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(DispatchTaskExecutor.shared) {
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)) { client in
                try await body(Inference_GRPCInferenceService.Client(wrapping: client))
            }
        }
    }

    /// The error a call made with a plain grpc-swift client (any method, any request stream) ends with; nil if it succeeds.
    func refusal(_ call: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Void) async throws -> RPCError? {
        try await withTaskExecutorPreference(DispatchTaskExecutor.shared) {
            try await withGRPCClient(transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)) { client in
                do {
                    try await call(client)
                    return nil
                } catch {
                    return error as? RPCError
                }
            }
        }
    }
}

/// v2 requests for the tiny fixture (26 ids, 13 numbers per row), encoded as the server would encode rows.
enum GRPCRequests {
    static func encoded(_ rows: Range<Int>) -> (ids: [Int64], dense: [Float]) {
        let encoder = FeatureEncoder(map: TestServer.featureMap)
        var ids = [Int64](repeating: 0, count: rows.count * 26)
        var dense = [Float](repeating: 0, count: rows.count * 13)
        for (position, index) in rows.enumerated() {
            ids.withUnsafeMutableBufferPointer { idBuffer in
                dense.withUnsafeMutableBufferPointer { denseBuffer in
                    encoder.encode(TestRows.rawRow(index), ids: idBuffer.baseAddress! + position * 26, dense: denseBuffer.baseAddress! + position * 13)
                }
            }
        }
        return (ids, dense)
    }

    static func tensor(_ name: String, _ datatype: String, _ shape: [Int64]) -> Inference_ModelInferRequest.InferInputTensor {
        var tensor = Inference_ModelInferRequest.InferInputTensor()
        tensor.name = name
        tensor.datatype = datatype
        tensor.shape = shape
        return tensor
    }

    /// Raw inputs, as Triton's clients send them.
    static func raw(_ rows: Range<Int>, id: String = "") -> Inference_ModelInferRequest {
        let (ids, dense) = encoded(rows)
        var request = Inference_ModelInferRequest()
        request.modelName = "tiny"
        request.id = id
        request.inputs = [tensor("sparse_ids", "INT64", [Int64(rows.count), 26]), tensor("dense", "FP32", [Int64(rows.count), 13])]
        request.rawInputContents = [ids.withUnsafeBytes { Data($0) }, dense.withUnsafeBytes { Data($0) }]
        return request
    }

    /// The probabilities of a response's first raw output.
    static func probabilities(_ response: Inference_ModelInferResponse) -> [Float] {
        guard let raw = response.rawOutputContents.first else { return [] }
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}

@Suite("gRPC front end (real grpc-swift client, real ONNX Runtime)")
struct GRPCTests {
    @Test("ModelInfer with raw and with typed contents equals direct ONNX Runtime runs; the id is echoed")
    func inferMatchesDirectRuns() async throws {
        let server = try await GRPCTestServer.start()
        let expected = try HTTPServerTests.directPredictions(0..<20, bundle: server.http.bundleDirectory)
        let (raw, typed) = try await server.withClient { client in
            let raw = try await client.modelInfer(GRPCRequests.raw(0..<20, id: "r-1"))
            var request = GRPCRequests.raw(0..<20, id: "t-1")
            let (ids, dense) = GRPCRequests.encoded(0..<20)
            request.rawInputContents = []
            request.inputs[0].contents.int64Contents = ids
            request.inputs[1].contents.fp32Contents = dense
            let typed = try await client.modelInfer(request)
            return (raw, typed)
        }
        #expect(raw.id == "r-1" && typed.id == "t-1")
        #expect(raw.outputs.map(\.name) == ["probability"] && raw.outputs[0].shape == [20, 1] && raw.outputs[0].datatype == "FP32")
        for response in [raw, typed] {
            let got = GRPCRequests.probabilities(response)
            #expect(got.count == 20 && zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        }
        await server.stop()
    }

    @Test("bad calls get INVALID_ARGUMENT or NOT_FOUND naming the problem, concurrently with good ones that stay right")
    func concurrentGoodAndBadCalls() async throws {
        var pool = PoolConfiguration()
        pool.maxBatchSize = 64
        pool.maxQueueDelayMicroseconds = 2_000
        let server = try await GRPCTestServer.start(pool: pool)
        let expected = try HTTPServerTests.directPredictions(0..<40, bundle: server.http.bundleDirectory)
        let outcomes = try await server.withClient { client in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        do {
                            let response = try await client.modelInfer(GRPCRequests.raw(index..<(index + 1), id: "good-\(index)"))
                            let got = GRPCRequests.probabilities(response)
                            return (index, got.count == 1 && abs(got[0] - expected[index]) < 1e-6 && response.id == "good-\(index)" ? "ok" : "wrong")
                        } catch {
                            return (index, "failed: \(error)")
                        }
                    }
                    group.addTask {
                        var bad = GRPCRequests.raw(index..<(index + 1))
                        let expectedCode: RPCError.Code
                        let mention: String
                        switch index % 4 {
                        case 0:
                            bad.inputs[1].shape = [1, 12]
                            expectedCode = .invalidArgument
                            mention = "dense"
                        case 1:
                            bad.rawInputContents[0] = Data(count: 8)
                            expectedCode = .invalidArgument
                            mention = "sparse_ids"
                        case 2:
                            bad.modelName = "nope"
                            expectedCode = .notFound
                            mention = "nope"
                        default:
                            var ids = [Int64](repeating: 5_000_000, count: 26)
                            bad.rawInputContents[0] = ids.withUnsafeMutableBytes { Data($0) }
                            expectedCode = .invalidArgument
                            mention = "outside"
                        }
                        do {
                            _ = try await client.modelInfer(bad)
                            return (-1, "bad call \(index) succeeded")
                        } catch let error as RPCError {
                            return (-1, error.code == expectedCode && error.message.contains(mention) ? "ok" : "bad call \(index): \(error.code) \(error.message)")
                        }
                    }
                }
                var outcomes: [String] = []
                for try await (_, outcome) in group { outcomes.append(outcome) }
                return outcomes
            }
        }
        #expect(outcomes.count == 80)
        #expect(outcomes.allSatisfy { $0 == "ok" }, "\(outcomes.filter { $0 != "ok" })")
        await server.stop()
    }

    @Test("a full queue answers UNAVAILABLE saying so; a timeout parameter that expires answers DEADLINE_EXCEEDED")
    func queueFullAndDeadline() async throws {
        var pool = PoolConfiguration()
        pool.maxQueueSize = 1
        pool.maxBatchSize = 1
        let server = try await GRPCTestServer.start(pool: pool, model: "criteo_slow.onnx")
        let core = server.http.application
        let (busy, small) = try await server.withClient { client in
            // A 1,000-row call on the slow model occupies the only inference thread; then eight one-row calls at
            // once: one can run or wait in the one-place queue, the calls behind it are refused. No step depends
            // on how long the big call runs (on a busy machine it may even finish first: the eight still overfill).
            async let busy = client.modelInfer(GRPCRequests.raw(0..<1000))
            let deadline = ContinuousClock.now + .seconds(20)
            while core.metrics.runningBatches == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .microseconds(500)) }
            let small = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            return GRPCRequests.probabilities(try await client.modelInfer(GRPCRequests.raw(0..<1))).count == 1 ? "answered" : "wrong"
                        } catch let error as RPCError where error.code == .unavailable && error.message.contains("queue is full") {
                            return "queue full"
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            return (try await busy, small)
        }
        #expect(GRPCRequests.probabilities(busy).count == 1000)
        #expect(small.count == 8 && small.allSatisfy { $0 == "answered" || $0 == "queue full" }, "\(small)")
        #expect(small.contains("answered") && small.contains("queue full"), "\(small)")
        await server.stop()

        var batching = PoolConfiguration()
        batching.maxBatchSize = 64
        batching.maxQueueDelayMicroseconds = 50_000
        let waiting = try await GRPCTestServer.start(pool: batching)
        let expired: RPCError? = try await waiting.withClient { client in
            var request = GRPCRequests.raw(0..<1)
            var timeout = Inference_InferParameter()
            timeout.int64Param = 1_000
            request.parameters["timeout"] = timeout
            do {
                _ = try await client.modelInfer(request)
                return nil
            } catch {
                return error as? RPCError
            }
        }
        #expect(expired?.code == .deadlineExceeded && expired?.message.contains("deadline") == true, "\(String(describing: expired))")
        await waiting.stop()
    }

    @Test("ModelStreamInfer answers every request with its id, errors inside the stream, and keeps going")
    func streaming() async throws {
        let server = try await GRPCTestServer.start()
        let expected = try HTTPServerTests.directPredictions(0..<8, bundle: server.http.bundleDirectory)
        let answers = try await server.withClient { client in
            try await client.modelStreamInfer(request: StreamingClientRequest(of: Inference_ModelInferRequest.self) { writer in
                for index in 0..<8 {
                    var request = GRPCRequests.raw(index..<(index + 1), id: "s-\(index)")
                    if index == 3 { request.inputs[0].name = "wrong" }
                    try await writer.write(request)
                }
            }) { response in
                var answers: [(String, String, [Float])] = []
                for try await message in response.messages {
                    answers.append((message.inferResponse.id, message.errorMessage, GRPCRequests.probabilities(message.inferResponse)))
                }
                return answers.map { "\($0.0)|\($0.1)|\($0.2.map { String($0) }.joined(separator: ","))" }
            }
        }
        #expect(answers.count == 8)
        for index in 0..<8 {
            let line = try #require(answers.first { $0.hasPrefix("s-\(index)|") })
            if index == 3 {
                #expect(line.contains("wrong"), "\(line)")
            } else {
                #expect(line == "s-\(index)||\(expected[index])", "\(line)")
            }
        }
        await server.stop()
    }

    @Test("Health Watch answers at once and on every change, without polling: unload and load of a model", .timeLimit(.minutes(1)))
    func healthWatchFollowsChanges() async throws {
        let server = try await GRPCTestServer.start()
        let core = server.http.application
        let seen = try await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: server.port), transportSecurity: .plaintext)
        ) { client in
            var request = Grpc_Health_V1_HealthCheckRequest()
            request.service = "tiny"
            return try await Grpc_Health_V1_Health.Client(wrapping: client).watch(request: ClientRequest(message: request)) { response in
                var statuses: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
                for try await message in response.messages {
                    statuses.append(message.status)
                    // Each change is made only once the previous status arrived, so each must come back as a message.
                    switch statuses.count {
                    case 1: InferenceCore.startThread(name: "test-unload") { _ = core.unload(model: "tiny") }
                    case 2: InferenceCore.startThread(name: "test-load") { _ = core.load(model: "tiny") }
                    default: return statuses
                    }
                }
                return statuses
            }
        } }
        #expect(seen == [.serving, .notServing, .serving], "\(seen)")
        await server.stop()
    }

    @Test("health: SERVING while ready, NOT_SERVING once draining; config, metadata and statistics answer")
    func healthAndMetadata() async throws {
        let server = try await GRPCTestServer.start()
        let (status, config, stats) = try await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: server.port), transportSecurity: .plaintext)
        ) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            let inference = Inference_GRPCInferenceService.Client(wrapping: client)
            let status = try await health.check(Grpc_Health_V1_HealthCheckRequest())
            var configRequest = Inference_ModelConfigRequest()
            configRequest.name = "tiny"
            let config = try await inference.modelConfig(configRequest)
            _ = try await inference.modelInfer(GRPCRequests.raw(0..<3))
            let stats = try await inference.modelStatistics(Inference_ModelStatisticsRequest())
            return (status.status, config.config, stats)
        } }
        #expect(status == .serving)
        #expect(config.name == "tiny" && config.maxBatchSize > 0 && config.input.map(\.name) == ["sparse_ids", "dense"])
        #expect(config.input.map(\.dims) == [[26], [13]] && config.instanceGroup.first?.kind == .cpu)
        #expect(stats.modelStats.first?.inferenceCount == 3 && stats.modelStats.first?.inferenceStats.success.count == 1)
        server.http.application.beginDraining()
        let drained = try await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: server.port), transportSecurity: .plaintext)
        ) { client in
            try await Grpc_Health_V1_Health.Client(wrapping: client).check(Grpc_Health_V1_HealthCheckRequest()).status
        } }
        #expect(drained == .notServing)
        await server.stop()
    }
}

@Suite("gRPC request conversion and error mapping (no sockets)")
struct GRPCConversionTests {
    @Test("raw inputs must match the shape's byte size and come for every input or none")
    func rawChecks() throws {
        var request = GRPCRequests.raw(0..<2)
        #expect(throws: ServerError.self) {
            var short = request
            short.rawInputContents.removeLast()
            _ = try GRPCInferRequest(short, maxElements: 10_000)
        }
        request.rawInputContents[1] = Data(count: 7)
        do {
            _ = try GRPCInferRequest(request, maxElements: 10_000)
            Issue.record("a 7-byte FP32 tensor was accepted")
        } catch {
            #expect(error.kind == .invalidArgument && error.message.contains("dense") && error.message.contains("104"))
        }
        var negative = GRPCRequests.raw(0..<1)
        negative.inputs[0].shape = [-1, 26]
        #expect(throws: ServerError.self) { _ = try GRPCInferRequest(negative, maxElements: 10_000) }
        var huge = GRPCRequests.raw(0..<1)
        huge.inputs[0].shape = [Int64.max, 26]
        do {
            _ = try GRPCInferRequest(huge, maxElements: 10_000)
            Issue.record("a shape of Int64.max rows was accepted")
        } catch {
            #expect(error.kind == .limitExceeded)
        }
        let good = try GRPCInferRequest(GRPCRequests.raw(0..<2), maxElements: 10_000)
        #expect(good.bytes.readableBytes == 2 * 26 * 8 + 2 * 13 * 4)
        #expect(good.request.inputs.map(\.data) == [.binary(0..<416), .binary(416..<520)])
    }

    @Test("every error kind maps to Triton's HTTP status and gRPC code")
    func mapping() {
        let table: [(ServerError.Kind, UInt, RPCError.Code)] = [
            (.notFound, 404, .notFound), (.invalidArgument, 400, .invalidArgument), (.limitExceeded, 413, .resourceExhausted),
            (.queueFull, 503, .unavailable), (.unavailable, 503, .unavailable), (.deadlineExceeded, 504, .deadlineExceeded),
            (.unimplemented, 501, .unimplemented), (.internalError, 500, .internalError),
        ]
        #expect(table.count == ServerError.Kind.allCases.count)
        for (kind, status, code) in table {
            let error = ServerError(kind, "x")
            #expect(error.httpStatus.code == status && error.rpcCode == code, "\(kind)")
        }
    }

    @Test("the model config is Triton's JSON: batch dimension dropped, a [batch] input written dims [1] with reshape []")
    func configJSON() throws {
        let config = ModelConfiguration(
            name: "m", maxBatchSize: 100,
            inputs: [.init(name: "user", datatype: .int64, modelShape: [-1]), .init(name: "dense", datatype: .fp32, modelShape: [-1, 13])],
            outputs: [.init(name: "y", datatype: .fp32, modelShape: [-1, 1])],
            preferredBatchSize: 64, maxQueueDelayMicroseconds: 0, instanceCount: 2, parameters: [("version", "1")])
        var bytes: [UInt8] = []
        config.encode(into: &bytes)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let inputs = try #require(json["input"] as? [[String: Any]])
        #expect(inputs[0]["dims"] as? [Int] == [1] && (inputs[0]["reshape"] as? [String: [Int]])?["shape"] == [])
        #expect(inputs[1]["dims"] as? [Int] == [13] && inputs[1]["reshape"] == nil && inputs[1]["data_type"] as? String == "TYPE_FP32")
        #expect(json["max_batch_size"] as? Int == 100 && (json["instance_group"] as? [[String: Any]])?.first?["count"] as? Int == 2)
        let grpc = GRPCCalls.config(config)
        #expect(grpc.input[0].dims == [1] && grpc.input[0].hasReshape && grpc.input[0].reshape.shape.isEmpty && grpc.output[0].dims == [1])
    }

    @Test("grpc-timeout headers become nanoseconds")
    func timeouts() {
        #expect(GRPCCalls.timeout("250m") == 250_000_000)
        #expect(GRPCCalls.timeout("3S") == 3_000_000_000)
        #expect(GRPCCalls.timeout(nil) == nil)
    }
}
