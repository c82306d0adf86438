import CTRServing

/// One model as it is served: its loaded versions, the one that answers by default, and how traffic is shared.
struct ServedModel: Sendable {
    /// The version metadata describes and a request without a policy gets: the newest, or the policy's heaviest share.
    let primary: ModelEndpoint
    /// Every loaded version by name (the primary, the other shares, the shadow).
    let versions: [String: ModelEndpoint]
    /// How requests without a version are shared; nil: all go to ``primary``.
    let traffic: TrafficPolicy?
    /// The version that also scores every CTR API request (logged, never answered); nil: none.
    let shadow: ModelEndpoint?
    /// The field whose value keeps a user on one version (the policy's, else the bundle's first `source: user` field).
    let stickyField: String?

    /// A model served by one version.
    init(_ endpoint: ModelEndpoint) {
        self.init(versions: [endpoint.bundle.version: endpoint], policy: nil, newest: endpoint.bundle.version)
    }

    /// A model served by `versions` under `policy`, whose versions must all be loaded.
    init(versions: [String: ModelEndpoint], policy: TrafficPolicy?, newest: String) {
        self.versions = versions
        let answering = policy?.answering(newest: newest) ?? [newest]
        // The heaviest share answers metadata and version-less v2 calls; a tie goes to the newer version.
        let weight = { (version: String) in policy?.shares.first(where: { $0.version == version })?.weight ?? 1 }
        let main = answering.max { (weight($0), Int($0) ?? 0) < (weight($1), Int($1) ?? 0) } ?? newest
        primary = versions[main]!
        traffic = (policy?.shares.filter { $0.weight > 0 }.count ?? 0) > 1 ? policy : nil
        shadow = policy?.shadow.flatMap { versions[$0] }
        stickyField = policy?.stickyField
            ?? primary.bundle.featureMap?.schema.fields.first(where: { $0.source == "user" && $0.kind != .sequence })?.name
    }

    /// The version that answers a request without a version: by the policy's weights, sticky on `key`
    /// (the sticky field's hash; nil: random).
    func route(key: UInt64?) -> ModelEndpoint {
        guard let traffic else { return primary }
        return traffic.pick(key: key ?? CheapRandom.next()).flatMap { versions[$0] } ?? primary
    }

    /// Whether `other` serves the same endpoints under the same policy (nothing to publish).
    func same(as other: ServedModel) -> Bool {
        primary === other.primary && traffic == other.traffic && shadow === other.shadow && stickyField == other.stickyField
            && versions.count == other.versions.count && versions.allSatisfy { other.versions[$0.key] === $0.value }
    }
}

/// The models serving now, by name: immutable, replaced whole when a model loads, swaps, unloads or changes its traffic.
final class ServedModels: Sendable {
    let models: [String: ServedModel]
    /// Each model's primary version.
    let endpoints: [String: ModelEndpoint]
    /// Every loaded version of every model.
    let all: [ModelEndpoint]

    init(_ models: [String: ServedModel]) {
        self.models = models
        endpoints = models.mapValues(\.primary)
        all = models.keys.sorted().flatMap { name in
            models[name]!.versions.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map(\.value)
        }
    }

    /// A copy with `model` served as `served` (nil: not served).
    func replacing(_ model: String, with served: ServedModel?) -> ServedModels {
        var models = self.models
        models[model] = served
        return ServedModels(models)
    }
}

/// Whether the core still takes loads: after ``InferenceCore/shutdownPools()`` none may start a pool.
enum LifecyclePhase: Sendable {
    case serving
    case stopped
}
