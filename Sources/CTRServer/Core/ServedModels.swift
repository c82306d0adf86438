/// The endpoints serving now, by model name: immutable, replaced whole when a model loads, swaps or unloads.
final class ServedModels: Sendable {
    let endpoints: [String: ModelEndpoint]

    init(_ endpoints: [String: ModelEndpoint]) { self.endpoints = endpoints }

    /// A copy with `model` served by `endpoint` (nil: not served).
    func replacing(_ model: String, with endpoint: ModelEndpoint?) -> ServedModels {
        var endpoints = self.endpoints
        endpoints[model] = endpoint
        return ServedModels(endpoints)
    }
}

/// Whether the core still takes loads: after ``InferenceCore/shutdownPools()`` none may start a pool.
enum LifecyclePhase: Sendable {
    case serving
    case stopped
}
