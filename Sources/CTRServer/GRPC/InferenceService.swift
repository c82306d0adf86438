import CTRGRPCProtocol
import CTRServing
import GRPCCore

/// `inference.GRPCInferenceService` on grpc-swift's server (`--grpc-server grpc-swift`): each handler
/// unwraps grpc-swift's request, calls the shared ``GRPCCalls`` and maps `ServerError` to its gRPC code
/// (``ServerError/rpcCode``).
struct InferenceService: Inference_GRPCInferenceService.ServiceProtocol {
    let calls: GRPCCalls
    /// `x-clickwise-worker: <index>` under `--workers` (as HTTP's header), so clients can tell who answered.
    let responseMetadata: Metadata

    init(core: InferenceCore) {
        calls = GRPCCalls(core: core)
        var metadata = Metadata()
        if let index = core.configuration.workerIndex { metadata.addString(String(index), forKey: "x-clickwise-worker") }
        responseMetadata = metadata
    }

    // MARK: - Health and metadata

    func serverLive(request: ServerRequest<Inference_ServerLiveRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerLiveResponse> {
        Self.response(calls.counted(.health) { calls.serverLive(request.message) })
    }

    func serverReady(request: ServerRequest<Inference_ServerReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerReadyResponse> {
        Self.response(calls.counted(.health) { calls.serverReady(request.message) })
    }

    func modelReady(request: ServerRequest<Inference_ModelReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelReadyResponse> {
        Self.response(calls.counted(.health) { () throws(ServerError) in try calls.modelReady(request.message) })
    }

    func serverMetadata(request: ServerRequest<Inference_ServerMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerMetadataResponse> {
        Self.response(calls.counted(.metadata) { calls.serverMetadata(request.message) })
    }

    func modelMetadata(request: ServerRequest<Inference_ModelMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelMetadataResponse> {
        Self.response(calls.counted(.metadata) { () throws(ServerError) in try calls.modelMetadata(request.message) })
    }

    func modelConfig(request: ServerRequest<Inference_ModelConfigRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelConfigResponse> {
        Self.response(calls.counted(.metadata) { () throws(ServerError) in try calls.modelConfig(request.message) })
    }

    func modelStatistics(request: ServerRequest<Inference_ModelStatisticsRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelStatisticsResponse> {
        Self.response(calls.counted(.metadata) { () throws(ServerError) in try calls.modelStatistics(request.message) })
    }

    // MARK: - Repository

    func repositoryIndex(request: ServerRequest<Inference_RepositoryIndexRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryIndexResponse> {
        Self.response(calls.counted(.repository) { calls.repositoryIndex(request.message) })
    }

    func repositoryModelLoad(request: ServerRequest<Inference_RepositoryModelLoadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelLoadResponse> {
        Self.response(await calls.repositoryModelLoad(request.message))
    }

    func repositoryModelUnload(request: ServerRequest<Inference_RepositoryModelUnloadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelUnloadResponse> {
        Self.response(await calls.repositoryModelUnload(request.message))
    }

    // MARK: - Inference

    func modelInfer(request: ServerRequest<Inference_ModelInferRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelInferResponse> {
        switch await calls.modelInfer(request.message, timeout: Self.timeout(request.metadata)) {
        case .success(let response): return ServerResponse(message: response, metadata: responseMetadata)
        case .failure(let error): return ServerResponse(error: error.rpcError)
        }
    }

    /// Inferences over one stream: requests run concurrently (batched with everyone else's) and answers go
    /// back as they finish, matched by id; a bad request's error travels in the stream and the stream goes on.
    func modelStreamInfer(request: StreamingServerRequest<Inference_ModelInferRequest>, context: ServerContext) async throws -> StreamingServerResponse<Inference_ModelStreamInferResponse> {
        let timeout = Self.timeout(request.metadata)
        let calls = self.calls
        return StreamingServerResponse { writer in
            let (answers, answer) = AsyncStream<Inference_ModelStreamInferResponse>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in answers { try await writer.write(message) }
                }
                // Every request is its own child task, so a slow one does not hold back reading the next.
                try await withThrowingTaskGroup(of: Void.self) { inferences in
                    for try await message in request.messages {
                        inferences.addTask {
                            let result = await calls.modelInfer(message, timeout: timeout, route: .streamInfer)
                            answer.yield(GRPCCalls.streamAnswer(result, for: message))
                        }
                    }
                    try await inferences.waitForAll()
                }
                answer.finish()
                try await group.waitForAll()
            }
            return [:]
        }
    }

    // MARK: - Helpers

    private static func response<Message: Sendable>(_ result: Result<Message, ServerError>) -> ServerResponse<Message> {
        switch result {
        case .success(let message): ServerResponse(message: message)
        case .failure(let error): ServerResponse(error: error.rpcError)
        }
    }

    /// The client's `grpc-timeout` in nanoseconds; grpc-swift cancels the handler too, but a queued job would still run.
    static func timeout(_ metadata: Metadata) -> UInt64? {
        GRPCCalls.timeout(metadata[stringValues: "grpc-timeout"].first(where: { _ in true }))
    }
}
