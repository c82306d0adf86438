import CTRGRPCProtocol
import CTRServing
import Foundation
import NIOCore

/// Triton's gRPC methods at the message level: protobuf request in, protobuf response or ``ServerError``
/// out, over the shared ``InferenceCore``. Both gRPC servers (``GRPCConnectionHandler``'s and grpc-swift's
/// ``InferenceService``) call these, so conversion, metrics and error mapping exist once.
struct GRPCCalls: Sendable {
    let core: InferenceCore

    // MARK: - Health and metadata

    func serverLive(_ request: Inference_ServerLiveRequest) -> Inference_ServerLiveResponse {
        var response = Inference_ServerLiveResponse()
        response.live = true
        return response
    }

    func serverReady(_ request: Inference_ServerReadyRequest) -> Inference_ServerReadyResponse {
        var response = Inference_ServerReadyResponse()
        response.ready = core.ready
        return response
    }

    func modelReady(_ request: Inference_ModelReadyRequest) throws(ServerError) -> Inference_ModelReadyResponse {
        var response = Inference_ModelReadyResponse()
        response.ready = try core.modelReady(request.name, request.version.isEmpty ? nil : request.version).get()
        return response
    }

    func serverMetadata(_ request: Inference_ServerMetadataRequest) -> Inference_ServerMetadataResponse {
        var response = Inference_ServerMetadataResponse()
        response.name = "clickwise"
        response.version = InferenceCore.version
        response.extensions = InferenceCore.extensions
        return response
    }

    func modelMetadata(_ request: Inference_ModelMetadataRequest) throws(ServerError) -> Inference_ModelMetadataResponse {
        let metadata = try endpoint(request.name, request.version).metadata
        var response = Inference_ModelMetadataResponse()
        response.name = metadata.name
        response.versions = metadata.versions
        response.platform = metadata.platform
        func tensor(_ t: TensorDescription) -> Inference_ModelMetadataResponse.TensorMetadata {
            var out = Inference_ModelMetadataResponse.TensorMetadata()
            out.name = t.name
            out.datatype = t.elementType.rawValue
            out.shape = t.shape
            return out
        }
        response.inputs = metadata.inputs.map(tensor)
        response.outputs = metadata.outputs.map(tensor)
        return response
    }

    func modelConfig(_ request: Inference_ModelConfigRequest) throws(ServerError) -> Inference_ModelConfigResponse {
        var response = Inference_ModelConfigResponse()
        response.config = Self.config(try endpoint(request.name, request.version).configuration)
        return response
    }

    func modelStatistics(_ request: Inference_ModelStatisticsRequest) throws(ServerError) -> Inference_ModelStatisticsResponse {
        let name = request.name, version = request.version
        let models = try core.statistics(model: name.isEmpty ? nil : name, version: version.isEmpty ? nil : version).get()
        var response = Inference_ModelStatisticsResponse()
        response.modelStats = models.map { Self.statistics(name: $0.name, version: $0.version, $0.snapshot) }
        return response
    }

    // MARK: - Repository

    func repositoryIndex(_ request: Inference_RepositoryIndexRequest) -> Inference_RepositoryIndexResponse {
        var response = Inference_RepositoryIndexResponse()
        response.models = core.repositoryIndex()
            .filter { !request.ready || $0.state == "READY" }
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

    /// A load (on a plain thread), counted in the request metrics like the unary calls.
    func repositoryModelLoad(_ request: Inference_RepositoryModelLoadRequest) async -> Result<Inference_RepositoryModelLoadResponse, ServerError> {
        let traffic = request.parameters["traffic"].map(\.stringParam)
        let unsupported = InferenceCore.unsupportedLoadParameter(request.parameters.keys)
        return await countedRepositoryCall {
            if let unsupported { return unsupported }
            return await core.loadOffPool(model: request.modelName, traffic: traffic)
        }.map { Inference_RepositoryModelLoadResponse() }
    }

    /// An unload (on a plain thread), counted in the request metrics like the unary calls.
    func repositoryModelUnload(_ request: Inference_RepositoryModelUnloadRequest) async -> Result<Inference_RepositoryModelUnloadResponse, ServerError> {
        await countedRepositoryCall { await core.unloadOffPool(model: request.modelName) }.map { Inference_RepositoryModelUnloadResponse() }
    }

    // MARK: - Health service

    /// `grpc.health.v1` status of `service`: the empty name and `inference.GRPCInferenceService` follow the
    /// server's readiness, a repository model's name that model's; anything else is NOT_FOUND.
    func healthStatus(of service: String) throws(ServerError) -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        if service.isEmpty || service == "inference.GRPCInferenceService" { return core.ready ? .serving : .notServing }
        guard case .success(let ready) = core.modelReady(service, nil) else {
            throw ServerError(.notFound, "unknown service \"\(service)\"")
        }
        return ready ? .serving : .notServing
    }

    // MARK: - Inference

    /// One counted ModelInfer: `respond` gets the response (built while the inference thread's output is
    /// valid) or the error, on the inference thread, or at once on the caller's for a refused request.
    func modelInfer(_ message: Inference_ModelInferRequest, timeout: UInt64?, route: RPCRoute = .infer,
                    respond: @escaping @Sendable (Result<Inference_ModelInferResponse, ServerError>) -> Void) {
        countedInference(route, respond) { completion in
            infer(model: message.modelName, version: message.modelVersion, timeout: timeout,
                  convert: { maxElements throws(ServerError) in try GRPCInferRequest(message, maxElements: maxElements) },
                  answer: Self.response(for:), completion: completion)
        }
    }

    /// ``modelInfer(_:timeout:route:respond:)`` awaited.
    func modelInfer(_ message: Inference_ModelInferRequest, timeout: UInt64?, route: RPCRoute = .infer) async -> Result<Inference_ModelInferResponse, ServerError> {
        await withCheckedContinuation { continuation in
            modelInfer(message, timeout: timeout, route: route) { continuation.resume(returning: $0) }
        }
    }

    /// A request message as our server received it: read in place, or (typed contents) decoded by swift-protobuf.
    enum ReceivedInfer {
        case wire(ModelInferWire.Request, message: ByteBuffer)
        case decoded(Inference_ModelInferRequest)

        /// Reads `message`; malformed protobuf is INVALID_ARGUMENT.
        init(_ message: ByteBuffer) throws(ServerError) {
            // The Result carries the typed error out of the (untyped) rethrowing closure.
            let reading = message.withUnsafeReadableBytes { bytes in
                Result { () throws(ServerError) in try ModelInferWire.request(bytes) }
            }
            if let wire = try reading.get() {
                self = .wire(wire, message: message)
            } else {
                self = .decoded(try GRPCWire.decode(Inference_ModelInferRequest.self, message).get())
            }
        }

        /// ``init(_:)`` as a value.
        static func reading(_ message: ByteBuffer) -> Result<ReceivedInfer, ServerError> {
            Result { () throws(ServerError) in try ReceivedInfer(message) }
        }

        /// The request checked against the model's element limit.
        func converted(maxElements: Int) throws(ServerError) -> GRPCInferRequest {
            switch self {
            case .wire(let request, let message): try GRPCInferRequest(request, message: message, maxElements: maxElements)
            case .decoded(let message): try GRPCInferRequest(message, maxElements: maxElements)
            }
        }

        var modelName: String {
            switch self {
            case .wire(let request, _): request.modelName
            case .decoded(let message): message.modelName
            }
        }

        var modelVersion: String {
            switch self {
            case .wire(let request, _): request.modelVersion
            case .decoded(let message): message.modelVersion
            }
        }

        var id: String {
            switch self {
            case .wire(let request, _): request.id
            case .decoded(let message): message.id
            }
        }
    }

    /// One counted ModelInfer of our server: `respond` gets the length-prefixed ModelInferResponse (or, with
    /// `streamed`, ModelStreamInferResponse), written on the inference thread straight from its outputs.
    func modelInfer(_ received: ReceivedInfer, timeout: UInt64?, route: RPCRoute = .infer, streamed: Bool = false,
                    respond: @escaping @Sendable (Result<ByteBuffer, ServerError>) -> Void) {
        countedInference(route, respond) { completion in
            infer(model: received.modelName, version: received.modelVersion, timeout: timeout,
                  convert: { maxElements throws(ServerError) in try received.converted(maxElements: maxElements) },
                  answer: { ModelInferWire.framedResponse($0, streamed: streamed) }, completion: completion)
        }
    }

    /// A ModelStreamInfer answer: the response, or the error in `error_message` beside an echo of the request's ids.
    static func streamAnswer(_ result: Result<Inference_ModelInferResponse, ServerError>, for message: Inference_ModelInferRequest) -> Inference_ModelStreamInferResponse {
        switch result {
        case .success(let response):
            var out = Inference_ModelStreamInferResponse()
            out.inferResponse = response
            return out
        case .failure(let error):
            return streamError(error, model: message.modelName, version: message.modelVersion, id: message.id)
        }
    }

    /// A ModelStreamInfer error: `error_message` beside an echo of the request's ids, so the client can match it.
    static func streamError(_ error: ServerError, model: String, version: String, id: String) -> Inference_ModelStreamInferResponse {
        var out = Inference_ModelStreamInferResponse()
        out.errorMessage = error.message
        var echo = Inference_ModelInferResponse()
        echo.modelName = model
        echo.modelVersion = version
        echo.id = id
        out.inferResponse = echo
        return out
    }

    /// Counts one inference in the request metrics around `body`, which completes exactly once.
    private func countedInference<Answer>(_ route: RPCRoute, _ respond: @escaping @Sendable (Result<Answer, ServerError>) -> Void,
                                 _ body: (@escaping @Sendable (Result<Answer, ServerError>) -> Void) -> Void) {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        body { [core] result in
            core.requestFinished(route: route.metricsIndex, status: Self.status(result), startedAt: started)
            respond(result)
        }
    }

    /// Leases the model, converts the request against its limits, queues it; `answer` turns the outputs into
    /// what the front end sends, on the inference thread while they are valid.
    private func infer<Answer>(model: String, version: String, timeout: UInt64?,
                               convert: (Int) throws(ServerError) -> GRPCInferRequest,
                               answer: @escaping @Sendable (InferResult) -> Answer,
                               completion: @escaping @Sendable (Result<Answer, ServerError>) -> Void) {
        let endpoint: ModelEndpoint
        switch core.leaseEndpoint(model, version.isEmpty ? nil : version) {
        case .success(let found): endpoint = found
        case .failure(let error): return completion(.failure(error))
        }
        let converted: GRPCInferRequest
        do throws(ServerError) {
            converted = try convert(endpoint.maxElements)
        } catch {
            endpoint.release()
            return completion(.failure(error))
        }
        // The lease is held until the answer: a swap drains this request's job instead of refusing it.
        let failure = converted.bytes.withUnsafeReadableBytes { bytes in
            core.infer(endpoint, request: converted.request, bytes: bytes, transportTimeoutNanoseconds: timeout) { outcome in
                let response = outcome.map(answer)
                endpoint.release()
                completion(response)
            }
        }
        if let failure {
            endpoint.release()
            completion(.failure(failure))
        }
    }

    /// The response, built while the inference thread's output buffer is valid; always raw outputs,
    /// which is what Triton's clients read.
    static func response(for result: InferResult) -> Inference_ModelInferResponse {
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

    // MARK: - Counting

    /// Runs a unary call's body, counting it in the request metrics.
    func counted<Message>(_ route: RPCRoute, _ body: () throws(ServerError) -> Message) -> Result<Message, ServerError> {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        let result: Result<Message, ServerError>
        do throws(ServerError) {
            result = .success(try body())
        } catch {
            result = .failure(error)
        }
        core.requestFinished(route: route.metricsIndex, status: Self.status(result), startedAt: started)
        return result
    }

    private func countedRepositoryCall(_ body: () async -> ServerError?) async -> Result<Void, ServerError> {
        let started = MonotonicClock.nanoseconds()
        core.requestStarted()
        let error = await body()
        core.requestFinished(route: RPCRoute.repository.metricsIndex, status: error.map { Int($0.httpStatus.code) } ?? 200, startedAt: started)
        return error.map { .failure($0) } ?? .success(())
    }

    static func status<T>(_ result: Result<T, ServerError>) -> Int {
        switch result {
        case .success: 200
        case .failure(let error): Int(error.httpStatus.code)
        }
    }

    private func endpoint(_ name: String, _ version: String) throws(ServerError) -> ModelEndpoint {
        try core.endpoint(name, version.isEmpty ? nil : version).get()
    }

    /// A `grpc-timeout` value (e.g. `100m`, `5S`) in nanoseconds, so the queue drops a request whose
    /// caller gave up; nil when absent or malformed.
    static func timeout(_ value: String?) -> UInt64? {
        guard let value, let unit = value.last, let amount = UInt64(value.dropLast()) else { return nil }
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

    // MARK: - Conversions

    static func config(_ configuration: ModelConfiguration) -> Inference_ModelConfig {
        var config = Inference_ModelConfig()
        config.name = configuration.name
        config.platform = configuration.platform
        config.backend = configuration.backend
        config.maxBatchSize = Int32(clamping: configuration.maxBatchSize)
        func dataType(_ datatype: TensorElementType) -> Inference_DataType {
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
            input.allowRaggedBatch = tensor.ragged
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
        config.batchInput = configuration.batchInputs.map { batchInput in
            var message = Inference_BatchInput()
            message.kind = switch batchInput.kind {
            case "BATCH_ACCUMULATED_ELEMENT_COUNT": .batchAccumulatedElementCount
            case "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO": .batchAccumulatedElementCountWithZero
            default: .batchElementCount
            }
            message.targetName = [batchInput.target]
            message.dataType = dataType(batchInput.datatype)
            message.sourceInput = [batchInput.source]
            return message
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
