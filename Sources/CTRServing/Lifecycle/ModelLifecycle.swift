import Foundation
import Logging
import Synchronization

/// A served model version as the lifecycle sees it: its bundle, its leases, and how it stops.
public protocol ServedVersion: AnyObject, Sendable {
    /// The version's files.
    var bundle: ModelBundle { get }
    /// Takes a lease for one request; false once the version is retired (look the model up again).
    func acquire() -> Bool
    /// Returns a lease taken by ``acquire()``.
    func release()
    /// Refuses new leases, waits for the taken ones, then stops once its queued work has run (blocking).
    func retire()
    /// Stops once its queued work has run. Idempotent.
    func shutdown()
    /// What the log says beside "is serving" (e.g. the ranking graph it runs); empty for nothing.
    var servingNote: String { get }
}

/// Whether the lifecycle still takes loads: after ``ModelLifecycle/stop()`` none may start a pool.
public enum LifecyclePhase: Sendable {
    case serving
    case stopped
}

/// The model lifecycle: which versions of which models serve (the repository scan, Triton's "latest 1" or a
/// model's traffic policy), their states for the repository index, load and unload, polling, swap and drain.
///
/// A new version is loaded and warmed up beside the old one, published in the served table, and the old one is
/// then retired: lookups already holding it finish queueing, its queue runs dry, its threads stop and its
/// sessions are freed when the last answer drops it. A version that fails to load, or a policy that cannot be met,
/// leaves the model served as it was; the index says why. The front ends reach it through the serving core, which
/// turns its ``ServingError``s into protocol statuses.
public final class ModelLifecycle<Endpoint: ServedVersion>: Sendable {
    /// Loads a bundle as a warmed-up, servable version (blocking).
    public typealias Loader = @Sendable (ModelBundle) throws(ServingError) -> Endpoint

    /// The repository path (`serve --model`).
    public let modelPath: String
    /// `--traffic`/`--shadow` by model, for models whose directory has no traffic.json.
    public let traffic: [String: TrafficPolicy]
    private let logger: Logger
    private let loader: Loader
    /// Gives a newly loaded version what the server keeps beside models (item tables); failures are logged there.
    private let attach: @Sendable (Endpoint) -> Void
    /// Told whenever what is served changed (health watches).
    private let changed: @Sendable () -> Void
    /// The served versions, an immutable snapshot replaced whole on load, swap and unload: a request holds the
    /// lock only to copy the reference, and a load holds it only to publish.
    private let served: Mutex<ServedModels<Endpoint>>
    /// Every version the server knows, with its state (the repository index).
    private let records: Mutex<RepositoryRecords>
    /// Held for a whole load, swap or unload (seconds, on a plain thread): they run one at a time.
    private let phase = Mutex<LifecyclePhase>(.serving)
    /// The last traffic policy error logged per model, so a broken traffic.json is logged once per change, not every poll.
    private let lastTrafficErrors = Mutex<[String: String]>([:])

    /// Loads the versions every model of `modelPath` needs (cold: ``markReady()`` follows the caller's warm-up).
    ///
    /// `make` loads one version without warming it up; a failure stops the versions already started.
    public init(modelPath: String, traffic: [String: TrafficPolicy], logger: Logger,
                make: (ModelBundle) throws(ServingError) -> Endpoint,
                loader: @escaping Loader, attach: @escaping @Sendable (Endpoint) -> Void,
                changed: @escaping @Sendable () -> Void) throws(ServingError) {
        let sources = try ModelRepository.scan(modelPath)
        var models: [String: ServedModel<Endpoint>] = [:]
        var records = RepositoryRecords()
        var loaded: [Endpoint] = []
        var started = false
        defer { if !started { for endpoint in loaded { endpoint.shutdown() } } }
        for source in sources {
            guard let newest = source.newest else { continue }
            let policy = try Self.trafficPolicy(source, traffic: traffic)
            var versions: [String: Endpoint] = [:]
            for version in try Self.wantedVersions(source, policy: policy) {
                let endpoint = try make(try ModelBundle(directory: version.directory, name: source.name, version: version.version))
                loaded.append(endpoint)
                versions[version.version] = endpoint
                let note = endpoint.servingNote
                if !note.isEmpty { logger.info("model \(source.name) version \(version.version)\(note)") }
                records.discovered(source)
                records.set(source.name, version, .loading)
            }
            let model = ServedModel(versions: versions, policy: policy, newest: newest.version)
            models[source.name] = model
            if let policy { logger.info("model \(source.name): \(Self.describe(model, policy: policy))") }
        }
        for model in traffic.keys where models[model] == nil {
            throw ServingError(.modelLoad, "\(traffic[model]!.origin): no model \"\(model)\" is served (models: \(models.keys.sorted().joined(separator: ", ")))")
        }
        started = true
        self.modelPath = modelPath
        self.traffic = traffic
        self.logger = logger
        self.loader = loader
        self.attach = attach
        self.changed = changed
        served = Mutex(ServedModels(models))
        self.records = Mutex(records)
    }

    // MARK: - Lookups

    /// The served models now (a snapshot: a later load or unload does not change it).
    public var snapshot: ServedModels<Endpoint> { served.withLock { $0 } }

    /// Each model's primary version now.
    public var endpoints: [String: Endpoint] { snapshot.endpoints }

    /// Every loaded version of every model now.
    public var allEndpoints: [Endpoint] { snapshot.all }

    /// `model`'s primary version (nil version) or the named loaded one.
    public func lookUp(_ model: String, _ version: String?) -> Endpoint? {
        let served = snapshot
        guard let version else { return served.endpoints[model] }
        return served.models[model]?.versions[version]
    }

    /// Whether the repository holds `model` (and `version`, when given), served or not.
    public func knows(_ model: String, _ version: String?) -> Bool {
        records.withLock { records in records.models[model].map { versions in version.map { versions[$0] != nil } ?? true } ?? false }
    }

    /// Marks every loaded version READY (after start-up's warm-up).
    public func markReady() {
        let endpoints = allEndpoints
        records.withLock { records in
            for endpoint in endpoints { records.set(endpoint.bundle.name, endpoint.bundle.version, .ready) }
        }
    }

    /// One model version of the repository index: its state (Triton's READY/UNAVAILABLE/LOADING/UNLOADING) and why.
    public struct IndexEntry: Sendable, Equatable {
        /// The model's name.
        public let name: String
        /// The version's name.
        public let version: String
        /// READY, UNAVAILABLE, LOADING or UNLOADING.
        public let state: String
        /// Why it is in that state (empty when READY).
        public let reason: String
    }

    /// Every model version the server knows, with its state; READY versions read UNAVAILABLE while `draining`.
    public func index(draining: Bool) -> [IndexEntry] {
        records.withLock { $0.entries }.map { entry in
            if draining && entry.record.state == .ready {
                return IndexEntry(name: entry.model, version: entry.version, state: ModelVersionState.unavailable.rawValue,
                                  reason: "the server is shutting down")
            }
            return IndexEntry(name: entry.model, version: entry.version, state: entry.record.state.rawValue, reason: entry.record.reason)
        }
    }

    /// Why `model` at `version` is not served: unknown, or known with its state and reason.
    public func notServed(_ model: String, _ version: String?) -> ServingError {
        let (models, versions) = records.withLock { records in (records.models.keys.sorted(), records.models[model]) }
        let served = endpoints[model]
        guard let versions else {
            return ServingError(.unknownModel, "unknown model \"\(model)\"; models: \(models.joined(separator: ", "))")
        }
        let servedVersion = served.map { "; served version: \($0.bundle.version)" } ?? ""
        if let version {
            guard let record = versions[version] else {
                return ServingError(.unknownModel, "model \"\(model)\" has no version \"\(version)\"\(servedVersion)")
            }
            return ServingError(.unknownModel, "model \"\(model)\" version \(version) is \(record.state.rawValue)\(record.reason.isEmpty ? "" : " (\(record.reason))")\(servedVersion)")
        }
        // The newest version's reason says why: unloaded by request, removed, or failed to load.
        let reason = versions.max { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }?.value.reason ?? ""
        return ServingError(.unknownModel, "model \"\(model)\" is not loaded\(reason.isEmpty ? "" : " (\(reason))"); a repository load (POST /v2/repository/models/\(model)/load, gRPC RepositoryModelLoad) serves it again")
    }

    // MARK: - Load, unload, poll

    /// Serves the newest version of `model` in the repository (loading it, or swapping it in for the one
    /// served), or the versions of its traffic policy; nil when it serves, else why not. Blocks while loading:
    /// call it on a plain thread.
    ///
    /// `traffic` (a traffic.json's text) replaces the model's policy first: checked, then written into its
    /// directory, so polls and restarts keep it. A policy that cannot be met (a version not in the repository)
    /// leaves the model as it was and its old file restored.
    public func load(model: String, traffic: String? = nil) -> ServingError? {
        phase.withLock { phase -> ServingError? in
            guard phase == .serving else { return ServingError(.shuttingDown, "the server is shutting down") }
            let sources: [ModelRepository.Source]
            do throws(ServingError) {
                sources = try ModelRepository.scan(modelPath)
            } catch {
                return ServingError(.badInput, "cannot read the repository: \(error.message)")
            }
            guard let source = sources.first(where: { $0.name == model }) else {
                return ServingError(.unknownModel, "no model \"\(model)\" in the repository \(modelPath); models: \(sources.map(\.name).joined(separator: ", "))")
            }
            _ = records.withLock { $0.unloaded.remove(model) }
            defer { ModelPool.returnFreedHeapMemory() }
            guard let traffic else { return update(source, retryingFailed: true) }
            guard let directory = source.directory else {
                return ServingError(.badInput, "model \"\(model)\" is a bare bundle (\(modelPath)): a traffic policy needs a model directory of <version>/ bundles")
            }
            let path = (directory as NSString).appendingPathComponent(TrafficPolicy.fileName)
            let previous = FileManager.default.contents(atPath: path)
            let staged = path + ".staged"
            do throws(ServingError) {
                guard FileManager.default.createFile(atPath: staged, contents: Data(traffic.utf8)) else {
                    throw ServingError(.modelLoad, "cannot write \(staged)")
                }
                _ = try TrafficPolicy(file: staged)
            } catch {
                try? FileManager.default.removeItem(atPath: staged)
                return ServingError(.badInput, "parameter \"traffic\": \(error.message.replacingOccurrences(of: staged, with: "the policy"))")
            }
            guard rename(staged, path) == 0 else { return ServingError(.badInput, "cannot write \(path): \(String(cString: strerror(errno)))") }
            let failure = update(source, retryingFailed: true)
            if failure != nil {
                // The old policy still serves: its file goes back, so the next poll does not retry the refused one.
                if let previous { _ = FileManager.default.createFile(atPath: path, contents: previous) } else { unlink(path) }
                lastTrafficErrors.withLock { _ = $0.removeValue(forKey: model) }
            }
            return failure
        }
    }

    /// Stops serving `model`: its versions turn UNLOADING, then UNAVAILABLE once their queued work finished and
    /// their pools stopped. Polling leaves it unloaded until ``load(model:traffic:)``. Blocks: call it on a plain thread.
    public func unload(model: String) -> ServingError? {
        phase.withLock { phase -> ServingError? in
            guard phase == .serving else { return ServingError(.shuttingDown, "the server is shutting down") }
            let known = records.withLock { records -> Bool in
                guard records.models[model] != nil else { return false }
                records.unloaded.insert(model)
                return true
            }
            guard known else {
                return ServingError(.unknownModel, "no model \"\(model)\" in the repository; models: \(records.withLock { $0.models.keys.sorted() }.joined(separator: ", "))")
            }
            retire(model, reason: "unloaded by request")
            ModelPool.returnFreedHeapMemory()
            return nil
        }
    }

    /// One poll of the repository (`--repository-poll-secs`): new models, new versions and changed traffic
    /// policies are applied, models whose directory is gone are unloaded. A broken version is tried again only
    /// once its files change. Blocks: call it on a plain thread.
    public func poll() {
        phase.withLock { phase in
            guard phase == .serving else { return }
            let sources: [ModelRepository.Source]
            do throws(ServingError) {
                sources = try ModelRepository.scan(modelPath)
            } catch {
                // A repository caught mid-rewrite must not unload everything: keep serving, try again next poll.
                logger.warning("repository poll: \(error.message)")
                return
            }
            let unloaded = records.withLock { $0.unloaded }
            for source in sources where !unloaded.contains(source.name) {
                _ = update(source, retryingFailed: false)
            }
            let names = Set(sources.map(\.name))
            for model in endpoints.keys where !names.contains(model) {
                retire(model, reason: "removed from the repository \(modelPath)")
            }
            ModelPool.returnFreedHeapMemory()
        }
    }

    /// Stops every version once its queued work has run; loads after this are refused. Waits for a load in
    /// progress to finish first, so no pool it starts outlives the server.
    public func stop() {
        phase.withLock { phase in
            phase = .stopped
            for endpoint in allEndpoints { endpoint.shutdown() }
        }
    }

    // MARK: - Policies

    /// `source`'s traffic policy: its directory's traffic.json, else `traffic[name]` (the flags), else none (latest 1).
    static func trafficPolicy(_ source: ModelRepository.Source, traffic: [String: TrafficPolicy]) throws(ServingError) -> TrafficPolicy? {
        if let file = source.trafficFile { return try TrafficPolicy(file: file) }
        return traffic[source.name]
    }

    /// The versions `policy` needs loaded (the newest alone without one), each checked to be in the repository.
    static func wantedVersions(_ source: ModelRepository.Source, policy: TrafficPolicy?) throws(ServingError) -> [ModelRepository.Source.Version] {
        guard let newest = source.newest else { return [] }
        guard let policy else { return [newest] }
        var versions: [ModelRepository.Source.Version] = []
        for name in policy.loaded(newest: newest.version) {
            guard let version = source.versions.first(where: { $0.version == name }) else {
                throw ServingError(.modelLoad, "\(policy.origin): model \"\(source.name)\" has no version \(name) (versions: \(source.versions.map(\.version).joined(separator: ", ")))")
            }
            versions.append(version)
        }
        return versions
    }

    /// How a model's traffic is shared, for the log.
    static func describe(_ served: ServedModel<Endpoint>, policy: TrafficPolicy) -> String {
        var parts: [String] = []
        if let traffic = served.traffic {
            let total = traffic.shares.reduce(0) { $0 + $1.weight }
            let shares = traffic.shares.filter { $0.weight > 0 }.map { "version \($0.version) \(String(format: "%.1f", 100 * Double($0.weight) / Double(total)))%" }
            parts.append("traffic \(shares.joined(separator: ", "))\(served.stickyField.map { ", sticky on \($0)" } ?? ", random per request (no user field to stick on)")")
        } else {
            parts.append("every request to version \(served.primary.bundle.version)")
        }
        if let shadow = served.shadow { parts.append("version \(shadow.bundle.version) scores every CTR API request in shadow") }
        return parts.joined(separator: "; ") + " (\(policy.origin))"
    }

    // MARK: - Swap and drain

    /// Brings `source`'s wanted versions (its traffic policy's, else the newest) into service and retires the others;
    /// called with the phase lock held. A version that fails to load, or a policy that cannot be met, leaves the
    /// model served as it was.
    private func update(_ source: ModelRepository.Source, retryingFailed: Bool) -> ServingError? {
        records.withLock { $0.discovered(source) }
        guard let newest = source.newest else { return nil }
        let current = snapshot.models[source.name]
        let policy: TrafficPolicy?
        let wanted: [ModelRepository.Source.Version]
        do throws(ServingError) {
            policy = try Self.trafficPolicy(source, traffic: traffic)
            wanted = try Self.wantedVersions(source, policy: policy)
        } catch {
            // A traffic.json caught mid-edit, or naming a version not published yet: keep serving as before.
            if lastTrafficErrors.withLock({ $0.updateValue(error.message, forKey: source.name) }) != error.message {
                logger.error("model \(source.name): traffic policy not applied, serving as before: \(error.message)")
            }
            return ServingError(.badInput, "model \"\(source.name)\": \(error.message)")
        }
        lastTrafficErrors.withLock { _ = $0.removeValue(forKey: source.name) }
        var versions: [String: Endpoint] = [:]
        var started: [Endpoint] = []
        for version in wanted {
            if let running = current?.versions[version.version] {
                versions[version.version] = running
                continue
            }
            if !retryingFailed, let record = records.withLock({ $0.record(source.name, version.version) }),
               record.failed, record.stamp == version.stamp {
                for endpoint in started { drain(endpoint, reason: "not served: version \(version.version) of the same policy failed to load") }
                return nil
            }
            records.withLock { $0.set(source.name, version, .loading) }
            do throws(ServingError) {
                let bundle = try ModelBundle(directory: version.directory, name: source.name, version: version.version)
                // A plain model.onnx is servable on its own, but not beside or after a CTR API model: its
                // /predict clients would start failing, so a forgotten features.json is a broken version.
                if let current, current.primary.bundle.featureMap != nil, bundle.featureMap == nil {
                    throw ServingError(.modelLoad, "\(version.directory) has no features.json, but version \(current.primary.bundle.version) serves the CTR API with one; a plain ONNX version would break its /predict clients (add the features.json it was trained with, or unload the model first)")
                }
                let endpoint = try loader(bundle)
                started.append(endpoint)
                versions[version.version] = endpoint
            } catch {
                let still = current.map { "; version \($0.primary.bundle.version) keeps serving" } ?? ""
                records.withLock { $0.set(source.name, version, .unavailable, reason: "failed to load: \(error.message)", failed: true) }
                logger.error("model \(source.name) version \(version.version) failed to load\(still): \(error.message)")
                for endpoint in started { drain(endpoint, reason: "not served: version \(version.version) of the same policy failed to load") }
                return ServingError(.badInput, "failed to load model \"\(source.name)\" version \(version.version): \(error.message)\(still)")
            }
            attach(versions[version.version]!)
        }
        let next = ServedModel(versions: versions, policy: policy, newest: newest.version)
        if let current, current.same(as: next) { return nil }
        served.withLock { $0 = $0.replacing(source.name, with: next) }
        records.withLock { records in
            for version in wanted { records.set(source.name, version, .ready) }
        }
        changed()
        for endpoint in started {
            let replacing = current.map { policy == nil ? " (replacing version \($0.primary.bundle.version))" : " (beside version \($0.primary.bundle.version))" } ?? ""
            logger.info("model \(source.name) version \(endpoint.bundle.version) is serving\(replacing)\(endpoint.servingNote)")
        }
        if let policy { logger.info("model \(source.name): \(Self.describe(next, policy: policy))") }
        for old in current.map({ Array($0.versions.values) }) ?? [] where next.versions[old.bundle.version] !== old {
            drain(old, reason: "unloaded: \(policy.map { "not in the traffic policy (\($0.origin))" } ?? "replaced by version \(newest.version)")")
        }
        return nil
    }

    /// Takes `model` out of the served table and drains its versions; called with the phase lock held.
    private func retire(_ model: String, reason: String) {
        guard let current = snapshot.models[model] else { return }
        served.withLock { $0 = $0.replacing(model, with: nil) }
        changed()
        for endpoint in current.versions.values {
            drain(endpoint, reason: reason)
            logger.info("model \(model) version \(endpoint.bundle.version) unloaded: \(reason)")
        }
    }

    /// UNLOADING while the leases return and the queue runs dry, then UNAVAILABLE with `reason`. The sessions
    /// are freed when the caller drops the last reference (the callers then trim the heap).
    private func drain(_ endpoint: Endpoint, reason: String) {
        records.withLock { $0.set(endpoint.bundle.name, endpoint.bundle.version, .unloading) }
        endpoint.retire()
        records.withLock { $0.set(endpoint.bundle.name, endpoint.bundle.version, .unavailable, reason: reason) }
    }
}
