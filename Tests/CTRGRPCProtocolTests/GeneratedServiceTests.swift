import CTRGRPCProtocol
import ClickwiseTestSupport
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// The generated server stubs on a real HTTP/2 socket, called by Triton's own Python client and by
/// the generated Swift client: the routes are `/inference.GRPCInferenceService/<Method>` and
/// `/grpc.health.v1.Health/Check` as those clients expect. The services here are test doubles that
/// answer two RPCs; the real handlers live in CTRServer.
@Suite struct GeneratedServiceTests {
    struct Inference: Inference_GRPCInferenceService.SimpleServiceProtocol {
        func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
            .with { $0.live = true }
        }
        func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
            .with { $0.name = "wire-test"; $0.version = "9.8"; $0.extensions = ["a", "b"] }
        }
        func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse { throw Self.unimplemented }
        func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse { throw Self.unimplemented }
        func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse { throw Self.unimplemented }
        func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse { throw Self.unimplemented }
        func modelStreamInfer(
            request: RPCAsyncSequence<Inference_ModelInferRequest, any Error>,
            response: RPCWriter<Inference_ModelStreamInferResponse>, context: ServerContext
        ) async throws { throw Self.unimplemented }
        func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws -> Inference_ModelConfigResponse { throw Self.unimplemented }
        func modelStatistics(request: Inference_ModelStatisticsRequest, context: ServerContext) async throws -> Inference_ModelStatisticsResponse { throw Self.unimplemented }
        func repositoryIndex(request: Inference_RepositoryIndexRequest, context: ServerContext) async throws -> Inference_RepositoryIndexResponse { throw Self.unimplemented }
        func repositoryModelLoad(request: Inference_RepositoryModelLoadRequest, context: ServerContext) async throws -> Inference_RepositoryModelLoadResponse { throw Self.unimplemented }
        func repositoryModelUnload(request: Inference_RepositoryModelUnloadRequest, context: ServerContext) async throws -> Inference_RepositoryModelUnloadResponse { throw Self.unimplemented }

        static let unimplemented = RPCError(code: .unimplemented, message: "not in this test double")
    }

    struct Health: Grpc_Health_V1_Health.SimpleServiceProtocol {
        func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
            guard request.service.isEmpty || request.service == "inference.GRPCInferenceService" else {
                throw RPCError(code: .notFound, message: "unknown service \(request.service)")
            }
            return .with { $0.status = .serving }
        }
        func watch(
            request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
            context: ServerContext
        ) async throws { throw RPCError(code: .unimplemented, message: "not in this test double") }
    }

    static let client = #"""
import sys, grpc
import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException
url = sys.argv[1]
client = triton.InferenceServerClient(url)
print("live", client.is_server_live())
metadata = client.get_server_metadata()
print("metadata", metadata.name, metadata.version, ",".join(metadata.extensions))
try:
    client.is_model_ready("deepfm")
    print("model_ready answered")
except InferenceServerException as error:
    print("model_ready", error.status())
channel = grpc.insecure_channel(url)
print("health", channel.unary_unary("/grpc.health.v1.Health/Check")(b"").hex())
print("END")
"""#

    @Test func tritonClientAndSwiftClientReachTheGeneratedRoutes() async throws {
        try await withTaskExecutorPreference(DispatchTaskExecutor.shared) { try await Self.exercise() }
    }

    static func exercise() async throws {
        try await withGRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [Inference(), Health()]
        ) { server in
            let address = try #require(try await server.listeningAddress?.ipv4)
            let (status, lines) = try await TritonPython.run(Self.client, ["127.0.0.1:\(address.port)"])
            #expect(status == 0, "\(lines.joined(separator: "\n"))")
            #expect(lines == [
                "live True",
                "metadata wire-test 9.8 a,b",
                "model_ready StatusCode.UNIMPLEMENTED",
                "health 0801",  // field 1 (status), varint SERVING = 1
            ])

            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: address.port), transportSecurity: .plaintext)
            ) { client in
                let health = Grpc_Health_V1_Health.Client(wrapping: client)
                let status = try await health.check(.init()).status
                #expect(status == .serving)
                await #expect(throws: RPCError.self) {
                    try await health.check(.with { $0.service = "no.such.Service" })
                }
                let inference = Inference_GRPCInferenceService.Client(wrapping: client)
                let live = try await inference.serverLive(.init()).live
                #expect(live)
            }
        }
    }
}
