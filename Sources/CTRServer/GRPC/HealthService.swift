import CTRGRPCProtocol
import GRPCCore

/// `grpc.health.v1.Health` on the gRPC port: SERVING while the core is ready, for Kubernetes' gRPC probes
/// and service meshes. The empty service name and `inference.GRPCInferenceService` are known; the
/// repository's model names are accepted too, SERVING while that model is ready, so a probe can watch one model.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let core: InferenceCore

    private func status(of service: String) throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        if service.isEmpty || service == "inference.GRPCInferenceService" { return core.ready ? .serving : .notServing }
        guard case .success(let ready) = core.modelReady(service, nil) else {
            throw RPCError(code: .notFound, message: "unknown service \"\(service)\"")
        }
        return ready ? .serving : .notServing
    }

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = try status(of: request.service)
        return response
    }

    /// Sends the status now and on every change (checked every 100 ms) until the client goes away.
    func watch(request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
               context: ServerContext) async throws {
        var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
        while !Task.isCancelled {
            let now = try status(of: request.service)
            if now != last {
                var message = Grpc_Health_V1_HealthCheckResponse()
                message.status = now
                try await response.write(message)
                last = now
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
