import CTRFeatures
import CTRServing
import Dispatch
import Synchronization

/// One served model: its bundle, its model instance, how its requests are checked, and the metadata answers
/// computed once.
final class ModelEndpoint: Sendable {
    /// What the model takes: raw features by its features.json (the CTR API, and its signature's tensors over
    /// v2), or any tensors its ONNX signature names (v2 only).
    enum Requests: Sendable {
        case features(pool: SessionPool, decoder: PredictRequestDecoder, validator: InferInputValidator)
        case tensors(pool: TensorModelPool, validator: TensorInputValidator)
    }

    let bundle: ModelBundle
    let instance: ModelInstance
    let requests: Requests
    /// The most elements one v2 request may carry over all its inputs.
    let maxElements: Int
    /// The v2 model metadata, and its JSON computed once.
    let metadata: ModelMetadata
    let metadataJSON: [UInt8]
    /// Triton's model configuration, and its JSON computed once.
    let configuration: ModelConfiguration
    let configurationJSON: [UInt8]
    /// Requests between looking this endpoint up and queueing their job: a retired endpoint's pool stops
    /// only once they are all queued, so a swap loses none of them.
    private let leases = Atomic<Int>(0)
    private let retired = Atomic<Bool>(false)
    private let leasesReturned = DispatchSemaphore(value: 0)

    /// Loads `bundle` with `backend` and makes it servable: the one place a bundle becomes an endpoint.
    static func make(_ bundle: ModelBundle, backend: InferenceBackend, configuration: ServerConfiguration,
                     metrics: ServingMetrics) throws(ServingError) -> ModelEndpoint {
        ModelEndpoint(bundle: bundle, instance: try backend.makeInstance(bundle, configuration: configuration.pool, metrics: metrics),
                      maxRows: configuration.maxRowsPerRequest, ignoreUnknownFields: configuration.ignoreUnknownFields)
    }

    init(bundle: ModelBundle, instance: ModelInstance, maxRows: Int, ignoreUnknownFields: Bool) {
        self.bundle = bundle
        self.instance = instance
        let inputs = instance.inputs.map(TensorMetadata.init)
        let outputs = instance.outputs.map(TensorMetadata.init)
        metadata = ModelMetadata(name: bundle.name, versions: [bundle.version], inputs: inputs, outputs: outputs)
        let pool = instance.configuration
        var parameters = [(key: "version", value: bundle.version)]
        let batchable: Bool
        switch instance {
        case .features(let sessionPool):
            let map = sessionPool.bundle.featureMap!
            let validator = InferInputValidator(map: map, model: bundle.name, maxRows: maxRows)
            let decoder = PredictRequestDecoder(schema: map.schema, maxInstances: maxRows, ignoreUnknownFields: ignoreUnknownFields)
            requests = .features(pool: sessionPool, decoder: decoder, validator: validator)
            maxElements = validator.maxElements
            parameters.append((key: "feature_map_fingerprint", value: map.fingerprint))
            batchable = true
        case .tensors(let tensorPool):
            let validator = TensorInputValidator(model: bundle.name, inputs: tensorPool.inputs, batchable: tensorPool.batchable, maxRows: maxRows)
            requests = .tensors(pool: tensorPool, validator: validator)
            maxElements = validator.maxElements
            batchable = tensorPool.batchable
        }
        var bytes: [UInt8] = []
        metadata.encode(into: &bytes)
        metadataJSON = bytes
        // Triton's rule: a model that batches lists its dims after the batch one and max_batch_size > 0; one
        // that does not lists them in full with max_batch_size 0.
        func tensor(_ tensor: TensorMetadata) -> ModelConfiguration.Tensor {
            batchable ? ModelConfiguration.Tensor(name: tensor.name, datatype: tensor.datatype, modelShape: tensor.shape)
                : ModelConfiguration.Tensor(name: tensor.name, datatype: tensor.datatype, dims: tensor.shape)
        }
        configuration = ModelConfiguration(
            name: bundle.name, maxBatchSize: batchable ? maxRows : 0, inputs: inputs.map(tensor), outputs: outputs.map(tensor),
            dynamicBatching: batchable, preferredBatchSize: pool.maxBatchSize, maxQueueDelayMicroseconds: pool.maxQueueDelayMicroseconds,
            instanceCount: pool.threadCount, parameters: parameters)
        bytes = []
        configuration.encode(into: &bytes)
        configurationJSON = bytes
    }

    var name: String { bundle.name }

    /// The outputs v2 infer returns: a CTR bundle's probability (its first output), every output of a plain model.
    var servedOutputs: [String] {
        switch requests {
        case .features: [metadata.outputs[0].name]
        case .tensors: metadata.outputs.map(\.name)
        }
    }

    /// Whether `version` (nil = newest) names this endpoint's version.
    func serves(version: String?) -> Bool { version == nil || version == bundle.version }

    /// Takes a lease for one request (pair with ``release()``); false once the endpoint is retired, when
    /// the caller looks the model up again.
    ///
    /// Lock-free: the increment and ``retire()``'s store are sequentially consistent, so either the
    /// retirer sees this lease and waits for it, or this call sees `retired` and backs out.
    func acquire() -> Bool {
        leases.wrappingAdd(1, ordering: .sequentiallyConsistent)
        guard retired.load(ordering: .sequentiallyConsistent) else { return true }
        release()
        return false
    }

    /// Returns a lease taken by ``acquire()``, once the request's job is queued or refused.
    func release() {
        let left = leases.wrappingSubtract(1, ordering: .sequentiallyConsistent).newValue
        if left == 0 && retired.load(ordering: .sequentiallyConsistent) { leasesReturned.signal() }
    }

    /// Refuses new leases, waits until every lease is returned (blocking: call it on a plain thread, after
    /// the endpoint left the served table), then stops the pool once its queued jobs have run.
    func retire() {
        retired.store(true, ordering: .sequentiallyConsistent)
        // A lease backed out by `acquire` may signal without this waiter: re-check the count after each wake.
        while leases.load(ordering: .sequentiallyConsistent) > 0 { leasesReturned.wait() }
        instance.shutdown()
    }
}

extension TensorMetadata {
    /// The v2 description of a backend tensor.
    init(_ tensor: TensorDescription) {
        self.init(name: tensor.name, datatype: InferDatatype(tensor.elementType), shape: tensor.shape)
    }
}

extension InferDatatype {
    /// The v2 datatype of a serving element type.
    init(_ type: TensorElementType) {
        switch type {
        case .fp32: self = .fp32
        case .fp64: self = .fp64
        case .fp16: self = .fp16
        case .bf16: self = .bf16
        case .int8: self = .int8
        case .int16: self = .int16
        case .int32: self = .int32
        case .int64: self = .int64
        case .uint8: self = .uint8
        case .uint16: self = .uint16
        case .uint32: self = .uint32
        case .uint64: self = .uint64
        case .bool: self = .bool
        case .string: self = .bytes
        }
    }
}
