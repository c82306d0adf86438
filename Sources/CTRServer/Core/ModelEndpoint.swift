import CTRFeatures
import CTRServing
import Dispatch
import ONNXRuntime
import Synchronization

/// One served model: its bundle, its session pool, and the metadata answers computed once.
final class ModelEndpoint: Sendable {
    let bundle: ModelBundle
    let pool: SessionPool
    /// The v2 model metadata, and its JSON computed once.
    let metadata: ModelMetadata
    let metadataJSON: [UInt8]
    /// Triton's model configuration, and its JSON computed once.
    let configuration: ModelConfiguration
    let configurationJSON: [UInt8]
    /// The CTR API decoder for this model's schema.
    let decoder: PredictRequestDecoder
    /// The inputs the v2 API takes, in the model's order.
    let signature: ModelSignature
    /// Checks v2 requests against `signature` and copies them into jobs.
    let validator: InferInputValidator
    /// Requests between looking this endpoint up and queueing their job: a retired endpoint's pool stops
    /// only once they are all queued, so a swap loses none of them.
    private let leases = Atomic<Int>(0)
    private let retired = Atomic<Bool>(false)
    private let leasesReturned = DispatchSemaphore(value: 0)

    init(bundle: ModelBundle, pool: SessionPool, maxRows: Int, ignoreUnknownFields: Bool) {
        self.bundle = bundle
        self.pool = pool
        signature = bundle.featureMap.signature
        validator = InferInputValidator(map: bundle.featureMap, model: bundle.name, maxRows: maxRows)
        decoder = PredictRequestDecoder(schema: bundle.featureMap.schema, maxInstances: maxRows, ignoreUnknownFields: ignoreUnknownFields)
        let session = pool.sessions[0]
        let inputs = session.inputs.map { TensorMetadata(name: $0.name, datatype: InferDatatype(ort: $0.elementType), shape: $0.shape) }
        let outputs = session.outputs.map { TensorMetadata(name: $0.name, datatype: InferDatatype(ort: $0.elementType), shape: $0.shape) }
        metadata = ModelMetadata(name: bundle.name, versions: [bundle.version], inputs: inputs, outputs: outputs)
        var bytes: [UInt8] = []
        metadata.encode(into: &bytes)
        metadataJSON = bytes
        // Every served input and output is [batch, ...]: Triton's config lists the dims after the batch.
        func withoutBatch(_ tensor: TensorMetadata) -> ModelConfiguration.Tensor {
            ModelConfiguration.Tensor(name: tensor.name, datatype: tensor.datatype, modelShape: tensor.shape)
        }
        let poolConfiguration = pool.configuration
        configuration = ModelConfiguration(
            name: bundle.name, maxBatchSize: maxRows, inputs: inputs.map(withoutBatch), outputs: outputs.map(withoutBatch),
            preferredBatchSize: poolConfiguration.maxBatchSize, maxQueueDelayMicroseconds: poolConfiguration.maxQueueDelayMicroseconds,
            instanceCount: poolConfiguration.threadCount,
            parameters: [("version", bundle.version), ("feature_map_fingerprint", bundle.featureMap.fingerprint)])
        bytes = []
        configuration.encode(into: &bytes)
        configurationJSON = bytes
    }

    var name: String { bundle.name }
    var outputName: String { pool.sessions[0].outputs[0].name }

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
        pool.shutdown()
    }
}

extension InferDatatype {
    /// The v2 datatype of an ONNX element type.
    init(ort type: ORTElementType) {
        switch type {
        case .float: self = .fp32
        case .double: self = .fp64
        case .int64: self = .int64
        case .int32: self = .int32
        case .int16: self = .int16
        case .int8: self = .int8
        case .uint8: self = .uint8
        case .uint16: self = .uint16
        case .uint32: self = .uint32
        case .uint64: self = .uint64
        case .bool: self = .bool
        case .float16: self = .fp16
        case .bfloat16: self = .bf16
        default: self = .bytes
        }
    }
}
