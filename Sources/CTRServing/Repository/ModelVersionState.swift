/// Where one model version is in its lifecycle, with Triton's names as the repository index shows them.
///
/// LOADING → READY (warmed up, serving) → UNLOADING (replaced or unloaded: draining its queue) → UNAVAILABLE;
/// LOADING → UNAVAILABLE when the version is broken. Versions the version policy does not serve are
/// UNAVAILABLE with the reason.
public enum ModelVersionState: String, Sendable, Equatable {
    case loading = "LOADING"
    case ready = "READY"
    case unloading = "UNLOADING"
    case unavailable = "UNAVAILABLE"
}
