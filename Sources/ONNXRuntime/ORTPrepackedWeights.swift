/// A container that lets sessions of the same model share pre-packed weights (`OrtPrepackedWeightsContainer`).
///
/// Owns its pointer and releases it in `deinit`; every session created with it keeps it alive, so it is
/// released only after them. Thread-safe: ONNX Runtime synchronizes access internally.
public final class ORTPrepackedWeights: @unchecked Sendable {
    let environment: ORTEnvironment
    let handle: ORTHandle

    /// Creates an empty container.
    public init(environment: ORTEnvironment) throws(ORTError) {
        var container: ORTHandle?
        let api = environment.runtime.api
        try api.check(api(.createPrepackedWeightsContainer, FnCreateOut.self)(&container), "CreatePrepackedWeightsContainer")
        self.environment = environment
        self.handle = container!
        ORTLiveObjects.created()
    }

    deinit {
        environment.runtime.api.release(.releasePrepackedWeightsContainer, handle)
        ORTLiveObjects.released()
    }
}
