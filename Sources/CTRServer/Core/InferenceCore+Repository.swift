import CTRServing
import Foundation
import Logging

/// Triton's repository extension: the index with every version's state, `load` (which also picks up a new
/// version directory), `unload`, and the poll that `--repository-poll-secs` runs.
///
/// Version policy: Triton's default, "latest 1": the highest-numbered version directory of a model is
/// served; the others are listed as UNAVAILABLE with the reason. A new version is loaded and warmed up
/// beside the old one, swapped into the served table, and the old one is then retired: lookups already
/// holding it finish queueing, its queue runs dry, its threads stop and its sessions are freed when the
/// last answer drops it. A version that fails to load leaves the old one serving; the index says why.
extension InferenceCore {
    /// One model version of the repository index: its state (Triton's READY/UNAVAILABLE/LOADING/UNLOADING) and why.
    struct IndexEntry: Equatable {
        let name: String
        let version: String
        let state: String
        let reason: String
    }

    /// Every model version the server knows, with its state.
    func repositoryIndex() -> [IndexEntry] {
        let draining = self.draining
        return records.withLock { $0.entries }.map { entry in
            if draining && entry.record.state == .ready {
                return IndexEntry(name: entry.model, version: entry.version, state: ModelVersionState.unavailable.rawValue,
                                  reason: "the server is shutting down")
            }
            return IndexEntry(name: entry.model, version: entry.version, state: entry.record.state.rawValue, reason: entry.record.reason)
        }
    }

    /// ``load(model:)`` on a plain thread.
    func loadOffPool(model: String, traffic: String? = nil) async -> ServerError? {
        await Self.offPool(name: "clickwise-load") { self.load(model: model, traffic: traffic) }
    }

    /// ``unload(model:)`` on a plain thread.
    func unloadOffPool(model: String) async -> ServerError? {
        await Self.offPool(name: "clickwise-unload") { self.unload(model: model) }
    }

    /// Serves the newest version of `model` in the repository (loading it, or swapping it in for the one
    /// served), or the versions of its traffic policy; nil when it serves, else why not. Blocks while loading:
    /// call it on a plain thread.
    ///
    /// `traffic` (the load request's `traffic` parameter, a traffic.json's text) replaces the model's policy
    /// first: checked, then written into its directory, so polls and restarts keep it. A policy that cannot be
    /// met (a version not in the repository) leaves the model as it was and its old file restored.
    func load(model: String, traffic: String? = nil) -> ServerError? {
        lifecycle.withLock { phase -> ServerError? in
            guard phase == .serving else { return ServerError(.unavailable, "the server is shutting down") }
            let sources: [ModelRepository.Source]
            do throws(ServingError) {
                sources = try ModelRepository.scan(configuration.modelPath)
            } catch {
                return ServerError(.invalidArgument, "cannot read the repository: \(error.message)")
            }
            guard let source = sources.first(where: { $0.name == model }) else {
                return ServerError(.notFound, "no model \"\(model)\" in the repository \(configuration.modelPath); models: \(sources.map(\.name).joined(separator: ", "))")
            }
            _ = records.withLock { $0.unloaded.remove(model) }
            defer { ModelPool.returnFreedHeapMemory() }
            guard let traffic else { return update(source, retryingFailed: true) }
            guard let directory = source.directory else {
                return ServerError(.invalidArgument, "model \"\(model)\" is a bare bundle (\(configuration.modelPath)): a traffic policy needs a model directory of <version>/ bundles")
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
                return ServerError(.invalidArgument, "parameter \"traffic\": \(error.message.replacingOccurrences(of: staged, with: "the policy"))")
            }
            guard rename(staged, path) == 0 else { return ServerError(.invalidArgument, "cannot write \(path): \(String(cString: strerror(errno)))") }
            let failure = update(source, retryingFailed: true)
            if failure != nil {
                // The old policy still serves: its file goes back, so the next poll does not retry the refused one.
                if let previous { _ = FileManager.default.createFile(atPath: path, contents: previous) } else { unlink(path) }
                lastTrafficErrors.withLock { _ = $0.removeValue(forKey: model) }
            }
            return failure
        }
    }

    /// Stops serving `model`: its version turns UNLOADING, then UNAVAILABLE once its queued work finished
    /// and its pool stopped. Polling leaves it unloaded until ``load(model:)``. Blocks: call it on a plain thread.
    func unload(model: String) -> ServerError? {
        lifecycle.withLock { phase -> ServerError? in
            guard phase == .serving else { return ServerError(.unavailable, "the server is shutting down") }
            let known = records.withLock { records -> Bool in
                guard records.models[model] != nil else { return false }
                records.unloaded.insert(model)
                return true
            }
            guard known else {
                return ServerError(.notFound, "no model \"\(model)\" in the repository; models: \(records.withLock { $0.models.keys.sorted() }.joined(separator: ", "))")
            }
            retire(model, reason: "unloaded by request")
            ModelPool.returnFreedHeapMemory()
            return nil
        }
    }

    /// One poll of the repository (`--repository-poll-secs`): new models and new versions are loaded and
    /// swapped in, models whose directory is gone are unloaded. A broken version is tried again only once
    /// its files change. Blocks: call it on a plain thread.
    func pollRepository() {
        lifecycle.withLock { phase in
            guard phase == .serving else { return }
            let sources: [ModelRepository.Source]
            do throws(ServingError) {
                sources = try ModelRepository.scan(configuration.modelPath)
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
                retire(model, reason: "removed from the repository \(configuration.modelPath)")
            }
            ModelPool.returnFreedHeapMemory()
        }
    }

    /// `source`'s traffic policy: its directory's traffic.json, else `--traffic`/`--shadow`, else none (latest 1).
    static func trafficPolicy(_ source: ModelRepository.Source, configuration: ServerConfiguration) throws(ServingError) -> TrafficPolicy? {
        if let file = source.trafficFile { return try TrafficPolicy(file: file) }
        return configuration.traffic[source.name]
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
    static func describe(_ served: ServedModel, policy: TrafficPolicy) -> String {
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

    /// Brings `source`'s wanted versions (its traffic policy's, else the newest) into service and retires the others;
    /// called with the lifecycle lock held. A version that fails to load, or a policy that cannot be met, leaves
    /// the model served as it was.
    private func update(_ source: ModelRepository.Source, retryingFailed: Bool) -> ServerError? {
        records.withLock { $0.discovered(source) }
        guard let newest = source.newest else { return nil }
        let current = served.withLock { $0 }.models[source.name]
        let policy: TrafficPolicy?
        let wanted: [ModelRepository.Source.Version]
        do throws(ServingError) {
            policy = try Self.trafficPolicy(source, configuration: configuration)
            wanted = try Self.wantedVersions(source, policy: policy)
        } catch {
            // A traffic.json caught mid-edit, or naming a version not published yet: keep serving as before.
            if lastTrafficErrors.withLock({ $0.updateValue(error.message, forKey: source.name) }) != error.message {
                logger.error("model \(source.name): traffic policy not applied, serving as before: \(error.message)")
            }
            return ServerError(.invalidArgument, "model \"\(source.name)\": \(error.message)")
        }
        lastTrafficErrors.withLock { _ = $0.removeValue(forKey: source.name) }
        var versions: [String: ModelEndpoint] = [:]
        var started: [ModelEndpoint] = []
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
                let endpoint = try Self.makeEndpoint(bundle, backend: backend, configuration: configuration, metrics: metrics, warm: true)
                started.append(endpoint)
                versions[version.version] = endpoint
            } catch {
                let still = current.map { "; version \($0.primary.bundle.version) keeps serving" } ?? ""
                records.withLock { $0.set(source.name, version, .unavailable, reason: "failed to load: \(error.message)", failed: true) }
                logger.error("model \(source.name) version \(version.version) failed to load\(still): \(error.message)")
                for endpoint in started { drain(endpoint, reason: "not served: version \(version.version) of the same policy failed to load") }
                return ServerError(.invalidArgument, "failed to load model \"\(source.name)\" version \(version.version): \(error.message)\(still)")
            }
            do throws(ServingError) {
                try itemTables.attach(to: versions[version.version]!)
            } catch {
                logger.error("model \(source.name) version \(version.version) serves without an item table: \(error.message)")
            }
        }
        let next = ServedModel(versions: versions, policy: policy, newest: newest.version)
        if let current, current.same(as: next) { return nil }
        served.withLock { $0 = $0.replacing(source.name, with: next) }
        records.withLock { records in
            for version in wanted { records.set(source.name, version, .ready) }
        }
        healthWatchers.notify()
        for endpoint in started {
            let replacing = current.map { policy == nil ? " (replacing version \($0.primary.bundle.version))" : " (beside version \($0.primary.bundle.version))" } ?? ""
            logger.info("model \(source.name) version \(endpoint.bundle.version) is serving\(replacing)\(endpoint.rankingPool?.ranking.map { "; it ranks on its ranking graph: \($0.contextDescription)" } ?? "")")
        }
        if let policy { logger.info("model \(source.name): \(Self.describe(next, policy: policy))") }
        for old in current.map({ Array($0.versions.values) }) ?? [] where next.versions[old.bundle.version] !== old {
            drain(old, reason: "unloaded: \(policy == nil ? "replaced by version \(newest.version)" : "not in the traffic policy (\(policy!.origin))")")
        }
        return nil
    }

    /// Takes `model` out of the served table and drains it; called with the lifecycle lock held.
    private func retire(_ model: String, reason: String) {
        guard let current = served.withLock({ $0 }).models[model] else { return }
        served.withLock { $0 = $0.replacing(model, with: nil) }
        healthWatchers.notify()
        for endpoint in current.versions.values {
            drain(endpoint, reason: reason)
            logger.info("model \(model) version \(endpoint.bundle.version) unloaded: \(reason)")
        }
    }

    /// UNLOADING while the leases return and the queue runs dry, then UNAVAILABLE with `reason`. The sessions
    /// are freed when the caller drops the last reference (the callers then trim the heap).
    private func drain(_ endpoint: ModelEndpoint, reason: String) {
        records.withLock { $0.set(endpoint.name, endpoint.bundle.version, .unloading) }
        endpoint.retire()
        records.withLock { $0.set(endpoint.name, endpoint.bundle.version, .unavailable, reason: reason) }
    }

    /// Why `model` at `version` is not served: unknown, or known with its state and reason.
    func notServed(_ model: String, _ version: String?) -> ServerError {
        let (models, versions) = records.withLock { records in (records.models.keys.sorted(), records.models[model]) }
        let served = endpoints[model]
        guard let versions else {
            return ServerError(.notFound, "unknown model \"\(model)\"; models: \(models.joined(separator: ", "))")
        }
        let servedVersion = served.map { "; served version: \($0.bundle.version)" } ?? ""
        if let version {
            guard let record = versions[version] else {
                return ServerError(.notFound, "model \"\(model)\" has no version \"\(version)\"\(servedVersion)")
            }
            return ServerError(.notFound, "model \"\(model)\" version \(version) is \(record.state.rawValue)\(record.reason.isEmpty ? "" : " (\(record.reason))")\(servedVersion)")
        }
        // The newest version's reason says why: unloaded by request, removed, or failed to load.
        let reason = versions.max { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }?.value.reason ?? ""
        return ServerError(.notFound, "model \"\(model)\" is not loaded\(reason.isEmpty ? "" : " (\(reason))"); a repository load (POST /v2/repository/models/\(model)/load, gRPC RepositoryModelLoad) serves it again")
    }
}
