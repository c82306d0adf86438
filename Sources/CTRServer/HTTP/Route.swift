/// The endpoints the server answers, parsed from the request path without allocating for the common ones.
enum Route: Equatable {
    case predict(model: String)
    /// One user's candidates ranked in one request (`POST /v1/models/{m}:rank`).
    case rank(model: String)
    case serverMetadata
    case live
    case ready
    case modelMetadata(model: String, version: String?)
    case modelReady(model: String, version: String?)
    case infer(model: String, version: String?)
    case modelConfig(model: String, version: String?)
    /// Statistics of one model, or of every model when `model` is nil.
    case modelStats(model: String?, version: String?)
    case repositoryIndex
    case repositoryLoad(model: String)
    case repositoryUnload(model: String)
    case metrics
    case notFound

    /// Labels for `/metrics`, indexed by `metricsIndex`; the gRPC front end's follow (``RPCRoute``).
    static let labels: [(protocol: String, route: String)] =
        ["predict", "v2_infer", "v2_metadata", "v2_health", "metrics", "other", "v2_repository", "rank"].map { ("http", $0) }

    var metricsIndex: Int {
        switch self {
        case .predict: 0
        case .infer: 1
        case .serverMetadata, .modelMetadata, .modelConfig, .modelStats: 2
        case .live, .ready, .modelReady: 3
        case .metrics: 4
        case .notFound: 5
        case .repositoryIndex, .repositoryLoad, .repositoryUnload: 6
        case .rank: 7
        }
    }

    /// Parses a request target such as `/v1/models/deepfm:predict` or `/v2/models/m/versions/2/infer?x=1`.
    init(uri: String) {
        var path = Substring(uri)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        switch path {
        case "/v2": self = .serverMetadata; return
        case "/v2/health/live": self = .live; return
        case "/v2/health/ready": self = .ready; return
        case "/metrics": self = .metrics; return
        case "/v2/models/stats": self = .modelStats(model: nil, version: nil); return
        case "/v2/repository/index": self = .repositoryIndex; return
        default: break
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // ["", "v2", "repository", "models", "name", "load"]
        if parts.count == 6, parts[1] == "v2", parts[2] == "repository", parts[3] == "models", !parts[4].isEmpty {
            switch parts[5] {
            case "load": self = .repositoryLoad(model: String(parts[4])); return
            case "unload": self = .repositoryUnload(model: String(parts[4])); return
            default: self = .notFound; return
            }
        }
        // ["", "v1", "models", "name:predict"]
        if parts.count == 4, parts[1] == "v1", parts[2] == "models", parts[3].hasSuffix(":predict") {
            let name = parts[3].dropLast(":predict".count)
            self = name.isEmpty ? .notFound : .predict(model: String(name))
            return
        }
        if parts.count == 4, parts[1] == "v1", parts[2] == "models", parts[3].hasSuffix(":rank") {
            let name = parts[3].dropLast(":rank".count)
            self = name.isEmpty ? .notFound : .rank(model: String(name))
            return
        }
        guard parts.count >= 4, parts[1] == "v2", parts[2] == "models", !parts[3].isEmpty else {
            self = .notFound
            return
        }
        let model = String(parts[3])
        var rest = parts[4...]
        var version: String?
        if rest.first == "versions" {
            guard rest.count >= 2, !rest[rest.startIndex + 1].isEmpty else { self = .notFound; return }
            version = String(rest[rest.startIndex + 1])
            rest = rest.dropFirst(2)
        }
        switch Array(rest) {
        case []: self = .modelMetadata(model: model, version: version)
        case ["ready"]: self = .modelReady(model: model, version: version)
        case ["infer"]: self = .infer(model: model, version: version)
        case ["config"]: self = .modelConfig(model: model, version: version)
        case ["stats"]: self = .modelStats(model: model, version: version)
        default: self = .notFound
        }
    }
}
