import CTRGRPCProtocol
import CTRServing
import Foundation
import GRPCCore
import Synchronization

/// `inference.GRPCInferenceService`, Triton's gRPC API, over the shared ``InferenceCore``.
///
/// Each handler converts the protobuf message to the core's neutral types, calls the same core functions
/// the HTTP routes call, and maps `ServerError` to its gRPC code (``ServerError/rpcCode``). Inference
/// completes on an inference thread; the handler awaits it on a continuation, holding no thread.
struct InferenceService: Inference_GRPCInferenceService.ServiceProtocol {
    let core: InferenceCore
    /// `x-clickwise-worker: <index>` under `--workers` (as HTTP's header), so clients can tell who answered.
    let responseMetadata: Metadata

    init(core: InferenceCore) {
        self.core = core
        var metadata = Metadata()
        if let index = core.configuration.workerIndex { metadata.addString(String(index), forKey: "x-clickwise-worker") }
        responseMetadata = metadata
    }

    // MARK: - Health and metadata

    func serverLive(request: ServerRequest<Inference_ServerLiveRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerLiveResponse> {
        try counted(.health) {
            var response = Inference_ServerLiveResponse()
            response.live = true
            return response
        }
    }

    func serverReady(request: ServerRequest<Inference_ServerReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerReadyResponse> {
        try counted(.health) {
            var response = Inference_ServerReadyResponse()
            response.ready = core.ready
            return response
        }
    }

    func modelReady(request: ServerRequest<Inference_ModelReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelReadyResponse> {
        try counted(.health) {
            var response = Inference_ModelReadyResponse()
            response.ready = try core.modelReady(request.message.name, request.message.version.isEmpty ? nil : request.message.version).get()
            return response
        }
    }

    func serverMetadata(request: ServerRequest<Inference_ServerMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerMetadataResponse> {
        try counted(.metadata) {
            var response = Inference_ServerMetadataResponse()
            response.name = "clickwise"
            response.version = InferenceCore.version
            response.extensions = InferenceCore.extensions
            return response
        }
    }

    func modelMetadata(request: ServerRequest<Inference_ModelMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelMetadataResponse> {
        try counted(.metadata) {
            let metadata = try endpoint(request.message.name, request.message.version).metadata
            var response = Inference_ModelMetadataResponse()
            response.name = metadata.name
            response.versions = metadata.versions
            response.platform = metadata.platform
            func tensor(_ t: TensorMetadata) -> Inference_ModelMetadataResponse.TensorMetadata {
                var out = Inference_ModelMetadataResponse.TensorMetadata()
                out.name = t.name
                out.datatype = t.datatype.rawValue
                out.shape = t.shape
                return out
            }
            response.inputs = metadata.inputs.map(tensor)
            response.outputs = metadata.outputs.map(tensor)
            return response
        }
    }

    func modelConfig(request: ServerRequest<Inference_ModelConfigRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelConfigResponse> {
        try counted(.metadata) {
            var response = Inference_ModelConfigResponse()
            response.config = Self.config(try endpoint(request.message.name, request.message.version).configuration)
            return response
        }
    }

    func modelStatistics(request: ServerRequest<Inference_ModelStatisticsRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelStatisticsResponse> {
        try counted(.metadata) {
            let name = request.message.name, version = request.message.version
            let models = try core.statistics(model: name.isEmpty ? nil : name, version: version.isEmpty ? nil : version).get()
            var response = Inference_ModelStatisticsResponse()
            response.modelStats = models.map { Self.statistics(name: $0.name, version: $0.version, $0.snapshot) }
            return response
        }
    }

    // MARK: - Repository

    func repositoryIndex(request: ServerRequest<Inference_RepositoryIndexRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryIndexResponse> {
        try counted(.repository) {
            var response = Inference_RepositoryIndexResponse()
            response.models = core.repositoryIndex()
                .filter { !request.message.ready || $0.state == "READY" }
                .map { entry in
                    var model = Inference_RepositoryIndexResponse.ModelIndex()
                    model.name = entry.name
                    model.version = entry.version
                    model.state = entry.state
                    model.reason = entry.reason
                    return model
                }
            return response
        }
    }

    func repositoryModelLoad(request: ServerRequest<Inference_RepositoryModelLoadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelLoadResponse> {
        let error = await countedRepositoryCall { await core.loadOffPool(model: request.message.modelName) }
        if let error { return ServerResponse(error: error.rpcError) }
        return ServerResponse(message: Inference_RepositoryModelLoadResponse())
    }

    func repositoryModelUnload(request: ServerRequest<Inference_RepositoryModelUnloadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelUnloadResponse> {
        let error = await countedRepositoryCall { await core.unloadOffPool(model: request.message.modelName) }
        if let error { return ServerResponse(error: error.rpcError) }
        return ServerResponse(message: Inference_RepositoryModelUnloadResponse())
    }

    // MARK: - Inference

    func modelInfer(request: ServerRequest<Inference_ModelInferRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelInferResponse> {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        let result = await infer(request.message, timeout: Self.timeout(request.metadata))
        core.requestFinished(route: RPCRoute.infer.metricsIndex, status: Self.status(result), startedAt: started)
        switch result {
        case .success(let response): return ServerResponse(message: response, metadata: responseMetadata)
        case .failure(let error): return ServerResponse(error: error.rpcError)
        }
    }

    /// Inferences over one stream: requests run concurrently (batched with everyone else's) and answers go
    /// back as they finish, matched by id; a bad request's error travels in the stream and the stream goes on.
    func modelStreamInfer(request: StreamingServerRequest<Inference_ModelInferRequest>, context: ServerContext) async throws -> StreamingServerResponse<Inference_ModelStreamInferResponse> {
        let timeout = Self.timeout(request.metadata)
        return StreamingServerResponse { writer in
            let (answers, answer) = AsyncStream<Inference_ModelStreamInferResponse>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in answers { try await writer.write(message) }
                }
                // Every request is its own child task, so a slow one does not hold back reading the next.
                try await withThrowingTaskGroup(of: Void.self) { calls in
                    for try await message in request.messages {
                        calls.addTask {
                            let started = MonotonicClock.nanoseconds()
                            core.requestStarted()
                            let result = await infer(message, timeout: timeout)
                            core.requestFinished(route: RPCRoute.streamInfer.metricsIndex, status: Self.status(result), startedAt: started)
                            var out = Inference_ModelStreamInferResponse()
                            switch result {
                            case .success(let response):
                                out.inferResponse = response
                            case .failure(let error):
                                out.errorMessage = error.message
                                var echo = Inference_ModelInferResponse()
                                echo.modelName = message.modelName
                                echo.modelVersion = message.modelVersion
                                echo.id = message.id
                                out.inferResponse = echo
                            }
                            answer.yield(out)
                        }
                    }
                    try await calls.waitForAll()
                }
                answer.finish()
                try await group.waitForAll()
            }
            return [:]
        }
    }

    /// One inference, start to answer, as a protobuf response or the error to send.
    private func infer(_ message: Inference_ModelInferRequest, timeout: UInt64?) async -> Result<Inference_ModelInferResponse, ServerError> {
        let endpoint: ModelEndpoint
        switch core.leaseEndpoint(message.modelName, message.modelVersion.isEmpty ? nil : message.modelVersion) {
        case .success(let found): endpoint = found
        case .failure(let error): return .failure(error)
        }
        // Held until the answer: a swap drains this request's job instead of refusing it.
        defer { endpoint.release() }
        let converted: GRPCInferRequest
        do throws(ServerError) {
            converted = try GRPCInferRequest(message, maxElements: endpoint.maxElements)
        } catch {
            return .failure(error)
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<Inference_ModelInferResponse, ServerError>, Never>) in
            let failure = converted.bytes.withUnsafeBytes { bytes in
                core.infer(endpoint, request: converted.request, bytes: bytes, transportTimeoutNanoseconds: timeout) { outcome in
                    continuation.resume(returning: outcome.map(Self.response(for:)))
                }
            }
            if let failure { continuation.resume(returning: .failure(failure)) }
        }
    }

    /// The response, built while the inference thread's output buffer is valid; always raw outputs,
    /// which is what Triton's clients read.
    private static func response(for result: InferResult) -> Inference_ModelInferResponse {
        var response = Inference_ModelInferResponse()
        response.modelName = result.modelName
        response.modelVersion = result.modelVersion
        if let id = result.id { response.id = id }
        for output in result.outputs {
            var tensor = Inference_ModelInferResponse.InferOutputTensor()
            tensor.name = output.name
            tensor.datatype = output.datatype.rawValue
            tensor.shape = output.shape.map(Int64.init)
            response.outputs.append(tensor)
            response.rawOutputContents.append(Data(output.bytes))
        }
        return response
    }

    // MARK: - Helpers

    private func endpoint(_ name: String, _ version: String) throws(ServerError) -> ModelEndpoint {
        try core.endpoint(name, version.isEmpty ? nil : version).get()
    }

    /// Runs a unary handler, counting it in the request metrics and mapping its error.
    private func counted<Message: Sendable>(_ route: RPCRoute, _ body: () throws -> Message) throws -> ServerResponse<Message> {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        do {
            let message = try body()
            core.requestFinished(route: route.metricsIndex, status: 200, startedAt: started)
            return ServerResponse(message: message)
        } catch {
            // The bodies throw only ServerError; anything else would be a bug, reported as INTERNAL.
            let failure = error as? ServerError ?? ServerError(.internalError, "\(error)")
            core.requestFinished(route: route.metricsIndex, status: Int(failure.httpStatus.code), startedAt: started)
            return ServerResponse(error: failure.rpcError)
        }
    }

    /// A load or unload (which runs on a plain thread), counted in the request metrics like the unary calls.
    private func countedRepositoryCall(_ body: () async -> ServerError?) async -> ServerError? {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        let error = await body()
        core.requestFinished(route: RPCRoute.repository.metricsIndex, status: error.map { Int($0.httpStatus.code) } ?? 200, startedAt: started)
        return error
    }

    private static func status<T>(_ result: Result<T, ServerError>) -> Int {
        switch result {
        case .success: 200
        case .failure(let error): Int(error.httpStatus.code)
        }
    }

    /// The client's `grpc-timeout` (e.g. `100m`, `5S`) in nanoseconds, so the queue drops a request whose
    /// caller gave up; grpc-swift cancels the handler too, but a queued job would still run.
    static func timeout(_ metadata: Metadata) -> UInt64? {
        guard let value = metadata[stringValues: "grpc-timeout"].first(where: { _ in true }),
              let unit = value.last, let amount = UInt64(value.dropLast()) else { return nil }
        let nanoseconds: UInt64
        switch unit {
        case "H": nanoseconds = 3_600_000_000_000
        case "M": nanoseconds = 60_000_000_000
        case "S": nanoseconds = 1_000_000_000
        case "m": nanoseconds = 1_000_000
        case "u": nanoseconds = 1_000
        case "n": nanoseconds = 1
        default: return nil
        }
        return amount.multipliedReportingOverflow(by: nanoseconds).overflow ? nil : amount * nanoseconds
    }

    static func config(_ configuration: ModelConfiguration) -> Inference_ModelConfig {
        var config = Inference_ModelConfig()
        config.name = configuration.name
        config.platform = configuration.platform
        config.backend = configuration.backend
        config.maxBatchSize = Int32(clamping: configuration.maxBatchSize)
        func dataType(_ datatype: InferDatatype) -> Inference_DataType {
            switch datatype {
            case .bool: .typeBool
            case .uint8: .typeUint8
            case .uint16: .typeUint16
            case .uint32: .typeUint32
            case .uint64: .typeUint64
            case .int8: .typeInt8
            case .int16: .typeInt16
            case .int32: .typeInt32
            case .int64: .typeInt64
            case .fp16: .typeFp16
            case .bf16: .typeBf16
            case .fp32: .typeFp32
            case .fp64: .typeFp64
            case .bytes: .typeString
            }
        }
        config.input = configuration.inputs.map { tensor in
            var input = Inference_ModelInput()
            input.name = tensor.name
            input.dataType = dataType(tensor.datatype)
            input.dims = tensor.dims
            if let reshape = tensor.reshape {
                var model = Inference_ModelTensorReshape()
                model.shape = reshape
                input.reshape = model
            }
            return input
        }
        config.output = configuration.outputs.map { tensor in
            var output = Inference_ModelOutput()
            output.name = tensor.name
            output.dataType = dataType(tensor.datatype)
            output.dims = tensor.dims
            return output
        }
        var batching = Inference_ModelDynamicBatching()
        batching.preferredBatchSize = [Int32(clamping: configuration.preferredBatchSize)]
        batching.maxQueueDelayMicroseconds = UInt64(max(0, configuration.maxQueueDelayMicroseconds))
        if configuration.dynamicBatching { config.dynamicBatching = batching }
        var group = Inference_ModelInstanceGroup()
        group.name = configuration.name
        group.kind = .cpu
        group.count = Int32(clamping: configuration.instanceCount)
        config.instanceGroup = [group]
        for parameter in configuration.parameters {
            var value = Inference_ModelParameter()
            value.stringValue = parameter.value
            config.parameters[parameter.key] = value
        }
        return config
    }

    static func statistics(name: String, version: String, _ s: ModelStatistics.Snapshot) -> Inference_ModelStatistics {
        func duration(_ d: ModelStatistics.Duration) -> Inference_StatisticDuration {
            var out = Inference_StatisticDuration()
            out.count = d.count
            out.ns = d.nanoseconds
            return out
        }
        var stats = Inference_ModelStatistics()
        stats.name = name
        stats.version = version
        stats.lastInference = s.lastInferenceMilliseconds
        stats.inferenceCount = s.inferenceCount
        stats.executionCount = s.executionCount
        var inference = Inference_InferStatistics()
        inference.success = duration(s.success)
        inference.fail = duration(s.fail)
        inference.queue = duration(s.queue)
        inference.computeInput = duration(s.computeInput)
        inference.computeInfer = duration(s.computeInfer)
        inference.computeOutput = duration(s.computeOutput)
        inference.cacheHit = Inference_StatisticDuration()
        inference.cacheMiss = Inference_StatisticDuration()
        stats.inferenceStats = inference
        stats.batchStats = s.batches.map { batch in
            var out = Inference_InferBatchStatistics()
            out.batchSize = UInt64(batch.batchSize)
            out.computeInfer = duration(batch.computeInfer)
            var count = Inference_StatisticDuration()
            count.count = batch.computeInfer.count
            out.computeInput = count
            out.computeOutput = count
            return out
        }
        return stats
    }
}
