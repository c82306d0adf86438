/// The gRPC methods the front end serves, by their HTTP/2 `:path` (Triton's package, service and
/// method names, and `grpc.health.v1`).
enum GRPCMethod: Equatable {
    case serverLive, serverReady, modelReady, serverMetadata, modelMetadata, modelConfig, modelStatistics
    case repositoryIndex, repositoryModelLoad, repositoryModelUnload
    case modelInfer, modelStreamInfer
    case healthCheck, healthWatch

    /// The method `path` names; nil for one this server does not have (answered UNIMPLEMENTED, as Triton
    /// answers the shared-memory, trace and log methods it was built without).
    init?(path: Substring) {
        if path.hasPrefix("/inference.GRPCInferenceService/") {
            switch path.dropFirst("/inference.GRPCInferenceService/".count) {
            case "ModelInfer": self = .modelInfer
            case "ModelStreamInfer": self = .modelStreamInfer
            case "ServerLive": self = .serverLive
            case "ServerReady": self = .serverReady
            case "ModelReady": self = .modelReady
            case "ServerMetadata": self = .serverMetadata
            case "ModelMetadata": self = .modelMetadata
            case "ModelConfig": self = .modelConfig
            case "ModelStatistics": self = .modelStatistics
            case "RepositoryIndex": self = .repositoryIndex
            case "RepositoryModelLoad": self = .repositoryModelLoad
            case "RepositoryModelUnload": self = .repositoryModelUnload
            default: return nil
            }
        } else if path == "/grpc.health.v1.Health/Check" {
            self = .healthCheck
        } else if path == "/grpc.health.v1.Health/Watch" {
            self = .healthWatch
        } else {
            return nil
        }
    }

    /// Whether the client may send more than one message (only ModelStreamInfer); every other method
    /// takes exactly one, run once the client has finished sending.
    var streamsRequests: Bool { self == .modelStreamInfer }
}
