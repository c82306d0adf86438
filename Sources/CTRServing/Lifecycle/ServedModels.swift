/// One model as it is served: its loaded versions, the one that answers by default, and how traffic is shared.
public struct ServedModel<Endpoint: ServedVersion>: Sendable {
    /// The version metadata describes and a request without a policy gets: the newest, or the policy's heaviest share.
    public let primary: Endpoint
    /// Every loaded version by name (the primary, the other shares, the shadow).
    public let versions: [String: Endpoint]
    /// How requests without a version are shared; nil: all go to ``primary``.
    public let traffic: TrafficPolicy?
    /// The version that also scores every CTR API request (logged, never answered); nil: none.
    public let shadow: Endpoint?
    /// The field whose value keeps a user on one version (the policy's, else the bundle's first `source: user` field).
    public let stickyField: String?

    /// A model served by `versions` under `policy`, whose versions must all be loaded.
    public init(versions: [String: Endpoint], policy: TrafficPolicy?, newest: String) {
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
    public func route(key: UInt64?) -> Endpoint {
        guard let traffic else { return primary }
        return traffic.pick(key: key ?? CheapRandom.next()).flatMap { versions[$0] } ?? primary
    }

    /// Whether `other` serves the same endpoints under the same policy (nothing to publish).
    public func same(as other: ServedModel) -> Bool {
        primary === other.primary && traffic == other.traffic && shadow === other.shadow && stickyField == other.stickyField
            && versions.count == other.versions.count && versions.allSatisfy { other.versions[$0.key] === $0.value }
    }
}

/// The models serving now, by name: immutable, replaced whole when a model loads, swaps, unloads or changes its traffic.
public final class ServedModels<Endpoint: ServedVersion>: Sendable {
    /// Each model's versions and traffic, by name.
    public let models: [String: ServedModel<Endpoint>]
    /// Each model's primary version.
    public let endpoints: [String: Endpoint]
    /// Every loaded version of every model.
    public let all: [Endpoint]

    init(_ models: [String: ServedModel<Endpoint>]) {
        self.models = models
        endpoints = models.mapValues(\.primary)
        all = models.keys.sorted().flatMap { name in
            models[name]!.versions.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map(\.value)
        }
    }

    /// A copy with `model` served as `served` (nil: not served).
    func replacing(_ model: String, with served: ServedModel<Endpoint>?) -> ServedModels {
        var models = self.models
        models[model] = served
        return ServedModels(models)
    }
}
