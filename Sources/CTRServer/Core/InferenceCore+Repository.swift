import CTRServing
import Foundation

/// Triton's repository extension over the core's ``ModelLifecycle``: the index, `load` (which also picks up a
/// new version directory or a traffic policy), `unload`, and the poll that `--repository-poll-secs` runs; the
/// lifecycle's errors become ``ServerError``s here, which each front end maps to its protocol's status.
extension InferenceCore {
    /// One model version of the repository index.
    typealias IndexEntry = ModelLifecycle<ModelEndpoint>.IndexEntry

    /// Every model version the server knows, with its state.
    func repositoryIndex() -> [IndexEntry] {
        lifecycle.index(draining: draining)
    }

    /// ``load(model:traffic:)`` on a plain thread.
    func loadOffPool(model: String, traffic: String? = nil) async -> ServerError? {
        await Self.offPool(name: "clickwise-load") { self.load(model: model, traffic: traffic) }
    }

    /// The first of a load request's Triton parameters (`config`, `file:...`) this server does not take, as the
    /// error both front ends answer; nil when every parameter is `traffic`.
    static func unsupportedLoadParameter(_ names: some Collection<String>) -> ServerError? {
        guard let other = names.sorted().first(where: { $0 != "traffic" }) else { return nil }
        return ServerError(.invalidArgument, "load parameter \"\(other)\" is not supported; the one parameter is \"traffic\" (a traffic.json: weights, sticky_field, shadow)")
    }

    /// ``unload(model:)`` on a plain thread.
    func unloadOffPool(model: String) async -> ServerError? {
        await Self.offPool(name: "clickwise-unload") { self.unload(model: model) }
    }

    /// Serves the newest version of `model` (or its traffic policy's versions; `traffic` replaces the policy
    /// first); nil when it serves, else why not. Blocks while loading: call it on a plain thread.
    func load(model: String, traffic: String? = nil) -> ServerError? {
        lifecycle.load(model: model, traffic: traffic).map(ServerError.init)
    }

    /// Stops serving `model` until a load. Blocks: call it on a plain thread.
    func unload(model: String) -> ServerError? {
        lifecycle.unload(model: model).map(ServerError.init)
    }

    /// One poll of the repository. Blocks: call it on a plain thread.
    func pollRepository() {
        lifecycle.poll()
    }

    /// Why `model` at `version` is not served: unknown, or known with its state and reason.
    func notServed(_ model: String, _ version: String?) -> ServerError {
        ServerError(lifecycle.notServed(model, version))
    }
}
