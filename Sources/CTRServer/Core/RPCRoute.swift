/// The gRPC front end's metric routes, indexed after the HTTP ones (``Route/labels``).
enum RPCRoute: Int, CaseIterable {
    case infer, streamInfer, metadata, health, repository

    static let labels: [(protocol: String, route: String)] =
        ["v2_infer", "v2_stream_infer", "v2_metadata", "v2_health", "v2_repository"].map { ("grpc", $0) }

    /// The index into ``InferenceCore/metrics``' routes.
    var metricsIndex: Int { Route.labels.count + rawValue }
}
