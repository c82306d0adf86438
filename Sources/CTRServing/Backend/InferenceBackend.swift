import ONNXRuntime

/// The engine that runs models: ONNX Runtime today. It loads the runtime and its one environment, and makes
/// the model instances that serve a bundle, so nothing above CTRServing touches ONNX Runtime.
public final class InferenceBackend: Sendable {
    let environment: ORTEnvironment

    /// Loads ONNX Runtime (`libraryPath`, else the usual search: `ORT_DYLIB_PATH`, the project's .venv, the
    /// system's library) and creates the process's environment.
    public static func onnxRuntime(libraryPath: String?) throws(ServingError) -> InferenceBackend {
        do {
            let runtime = try ORTRuntime.load(explicitPath: libraryPath)
            return InferenceBackend(environment: try ORTEnvironment.make(runtime: runtime))
        } catch {
            throw ServingError(.modelLoad, error.message)
        }
    }

    /// A backend over an environment the caller made (tests and tools that configure their own).
    public init(environment: ORTEnvironment) {
        self.environment = environment
    }

    /// The instance serving `bundle`: the CTR pool when it has features.json, the tensor pool for a plain
    /// ONNX model. Its inference threads are started, not yet warmed up.
    public func makeInstance(_ bundle: ModelBundle, configuration: PoolConfiguration, metrics: ServingMetrics) throws(ServingError) -> ModelInstance {
        if bundle.featureMap != nil {
            return .features(try SessionPool(bundle: bundle, configuration: configuration, environment: environment, metrics: metrics))
        }
        return .tensors(try TensorModelPool(bundle: bundle, configuration: configuration, environment: environment, metrics: metrics))
    }
}
