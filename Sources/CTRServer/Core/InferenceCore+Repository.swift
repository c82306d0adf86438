import CTRServing
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
    func loadOffPool(model: String) async -> ServerError? {
        await Self.offPool(name: "clickwise-load") { self.load(model: model) }
    }

    /// ``unload(model:)`` on a plain thread.
    func unloadOffPool(model: String) async -> ServerError? {
        await Self.offPool(name: "clickwise-unload") { self.unload(model: model) }
    }

    /// Serves the newest version of `model` in the repository (loading it, or swapping it in for the one
    /// served); nil when it serves, else why not. Blocks while loading: call it on a plain thread.
    func load(model: String) -> ServerError? {
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
            return update(source, retryingFailed: true)
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

    /// Brings `source`'s newest version into service unless it already serves; called with the lifecycle lock held.
    private func update(_ source: ModelRepository.Source, retryingFailed: Bool) -> ServerError? {
        records.withLock { $0.discovered(source) }
        guard let newest = source.newest else { return nil }
        let current = endpoints[source.name]
        if let current, current.bundle.version == newest.version { return nil }
        if !retryingFailed, let record = records.withLock({ $0.record(source.name, newest.version) }),
           record.failed, record.stamp == newest.stamp {
            return nil
        }
        records.withLock { $0.set(source.name, newest, .loading) }
        let endpoint: ModelEndpoint
        do throws(ServingError) {
            let bundle = try ModelBundle(directory: newest.directory, name: source.name, version: newest.version)
            // A plain model.onnx is servable on its own, but not as the successor of a CTR API model: its
            // /predict clients would start failing, so a forgotten features.json is a broken version.
            if let current, current.bundle.featureMap != nil, bundle.featureMap == nil {
                throw ServingError(.modelLoad, "\(newest.directory) has no features.json, but version \(current.bundle.version) serves the CTR API with one; a plain ONNX version would break its /predict clients (add the features.json it was trained with, or unload the model first)")
            }
            endpoint = try Self.makeEndpoint(bundle, backend: backend, configuration: configuration, metrics: metrics, warm: true)
        } catch {
            let still = current.map { "; version \($0.bundle.version) keeps serving" } ?? ""
            records.withLock { $0.set(source.name, newest, .unavailable, reason: "failed to load: \(error.message)", failed: true) }
            logger.error("model \(source.name) version \(newest.version) failed to load\(still): \(error.message)")
            return ServerError(.invalidArgument, "failed to load model \"\(source.name)\" version \(newest.version): \(error.message)\(still)")
        }
        do throws(ServingError) {
            try itemTables.attach(to: endpoint)
        } catch {
            logger.error("model \(source.name) version \(newest.version) serves without an item table: \(error.message)")
        }
        served.withLock { $0 = $0.replacing(source.name, with: endpoint) }
        records.withLock { $0.set(source.name, newest, .ready) }
        healthWatchers.notify()
        logger.info("model \(source.name) version \(newest.version) is serving\(current.map { " (replacing version \($0.bundle.version))" } ?? "")\(endpoint.rankingPool?.ranking.map { "; it ranks on its ranking graph: \($0.contextDescription)" } ?? "")")
        if let current { drain(current, reason: "unloaded: replaced by version \(newest.version)") }
        return nil
    }

    /// Takes `model` out of the served table and drains it; called with the lifecycle lock held.
    private func retire(_ model: String, reason: String) {
        guard let current = endpoints[model] else { return }
        served.withLock { $0 = $0.replacing(model, with: nil) }
        healthWatchers.notify()
        drain(current, reason: reason)
        logger.info("model \(model) version \(current.bundle.version) unloaded: \(reason)")
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
