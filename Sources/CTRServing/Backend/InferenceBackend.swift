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

    /// The pool serving `bundle` (with its encoding stage when it has features.json, and its `config.pbtxt`
    /// settings as `spec`); its inference threads are started, not yet warmed up.
    public func makePool(_ bundle: ModelBundle, configuration: PoolConfiguration, metrics: ServingMetrics,
                         spec: ModelServingSpec? = nil) throws(ServingError) -> ModelPool {
        try ModelPool(bundle: bundle, configuration: configuration, environment: environment, metrics: metrics, spec: spec)
    }

    /// The pool serving `bundle`'s ranking graph (ranking.onnx), counting into `statistics` (the flat pool's).
    public func makeRankingPool(_ bundle: ModelBundle, configuration: PoolConfiguration, metrics: ServingMetrics,
                                statistics: ModelStatistics) throws(ServingError) -> ModelPool {
        try ModelPool(bundle: bundle, configuration: configuration, environment: environment, metrics: metrics, graph: .ranking,
                      statistics: statistics)
    }
}
