/// Every model version the server has seen in its repository, with its lifecycle state and the reason for
/// it: what Triton's repository index reports. A plain value, kept under the core's lock.
struct RepositoryRecords: Sendable, Equatable {
    /// One version's state.
    struct Record: Sendable, Equatable {
        var state: ModelVersionState
        var reason: String
        /// The directory's stamp when the version was last tried (``ModelRepository/Source/Version/stamp``).
        var stamp: String
        /// Whether the last try failed (a broken version is retried by polling only once its files change).
        var failed: Bool
    }

    /// Records by model, then by version.
    private(set) var models: [String: [String: Record]] = [:]
    /// Models unloaded on request: polling leaves them unloaded until a `load`.
    var unloaded: Set<String> = []

    /// Why a version is not served although nothing is wrong with it.
    static let notServedByPolicy = "not served: the version policy serves the newest version only (Triton's latest 1), or the versions a traffic policy names"

    /// Records the versions of `source` not seen before as not served (the caller then loads the newest).
    mutating func discovered(_ source: ModelRepository.Source) {
        var versions = models[source.name] ?? [:]
        for version in source.versions where versions[version.version] == nil {
            versions[version.version] = Record(state: .unavailable, reason: Self.notServedByPolicy, stamp: version.stamp, failed: false)
        }
        models[source.name] = versions
    }

    /// Sets the state of a version found on disk, with its directory's stamp.
    mutating func set(_ model: String, _ version: ModelRepository.Source.Version, _ state: ModelVersionState,
                      reason: String = "", failed: Bool = false) {
        models[model, default: [:]][version.version] = Record(state: state, reason: reason, stamp: version.stamp, failed: failed)
    }

    /// Sets the state of a known version, keeping its stamp.
    mutating func set(_ model: String, _ version: String, _ state: ModelVersionState, reason: String = "") {
        let stamp = models[model]?[version]?.stamp ?? ""
        models[model, default: [:]][version] = Record(state: state, reason: reason, stamp: stamp, failed: false)
    }

    /// The record of one version.
    func record(_ model: String, _ version: String) -> Record? { models[model]?[version] }

    /// Every version, sorted by model name then version number.
    var entries: [(model: String, version: String, record: Record)] {
        models.keys.sorted().flatMap { model in
            models[model]!.keys.sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }.map { (model, $0, models[model]![$0]!) }
        }
    }
}
