import CTRGRPCProtocol
import GRPCCore

/// `grpc.health.v1.Health` on grpc-swift's server (`--grpc-server grpc-swift`), over ``GRPCCalls/healthStatus(of:)``.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let calls: GRPCCalls

    private func status(of service: String) throws -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        do throws(ServerError) {
            return try calls.healthStatus(of: service)
        } catch {
            throw error.rpcError
        }
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
