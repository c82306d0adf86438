/// A loaded model version and the threads that run it: a CTR bundle's pool (raw features encoded by its
/// features.json) or a plain ONNX model's tensor pool.
public enum ModelInstance: Sendable {
    case features(SessionPool)
    case tensors(TensorModelPool)

    /// The bundle this instance serves.
    public var bundle: ModelBundle {
        switch self {
        case .features(let pool): pool.bundle
        case .tensors(let pool): pool.bundle
        }
    }

    /// The pool settings it was made with.
    public var configuration: PoolConfiguration {
        switch self {
        case .features(let pool): pool.configuration
        case .tensors(let pool): pool.configuration
        }
    }

    /// Its counters in Triton's statistics terms.
    public var statistics: ModelStatistics {
        switch self {
        case .features(let pool): pool.statistics
        case .tensors(let pool): pool.statistics
        }
    }

    /// The model's inputs, as the backend reports them.
    public var inputs: [TensorDescription] {
        switch self {
        case .features(let pool): pool.inputs
        case .tensors(let pool): pool.inputs
        }
    }

    /// The model's outputs, as the backend reports them.
    public var outputs: [TensorDescription] {
        switch self {
        case .features(let pool): pool.outputs
        case .tensors(let pool): pool.outputs
        }
    }

    /// Requests waiting for a thread.
    public var queueDepth: Int {
        switch self {
        case .features(let pool): pool.queueDepth
        case .tensors(let pool): pool.queueDepth
        }
    }

    /// Runs warm-up batches so the first requests are not slow (blocks: call off the event loops).
    public func warmUp() throws(ServingError) {
        switch self {
        case .features(let pool): try pool.warmUp()
        case .tensors(let pool): pool.warmUp()
        }
    }

    /// Finishes every queued job and stops the inference threads.
    public func shutdown() {
        switch self {
        case .features(let pool): pool.shutdown()
        case .tensors(let pool): pool.shutdown()
        }
    }
}
