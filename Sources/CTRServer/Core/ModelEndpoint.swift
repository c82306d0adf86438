import CTRFeatures
import CTRServing
import Dispatch
import Synchronization

/// One served model: its bundle, its pool, how its requests are checked, and the metadata answers computed once.
final class ModelEndpoint: ServedVersion {
    let bundle: ModelBundle
    let pool: ModelPool
    /// The bundle's ranking graph (ranking.onnx), which `:rank` runs when the request lets it; nil without one.
    let rankingPool: ModelPool?
    /// Checks v2 requests that send the ranking graph's inputs (`context_*` and the candidates'); nil without one.
    let rankingValidator: TensorInputValidator?
    /// Checks v2 requests against the model's inputs (every model takes v2 infer).
    let validator: TensorInputValidator
    /// Decodes CTR API rows by the bundle's schema; nil for a plain ONNX model, which takes tensors only.
    let decoder: PredictRequestDecoder?
    /// How the prediction log writes this bundle's rows; nil for a plain ONNX model.
    let predictionLogLayout: PredictionRecords.Layout?
    /// The most elements one v2 request may carry over all its inputs.
    var maxElements: Int { validator.maxElements }
    /// The v2 model metadata, and its JSON computed once.
    let metadata: ModelMetadata
    let metadataJSON: [UInt8]
    /// Triton's model configuration, and its JSON computed once.
    let configuration: ModelConfiguration
    let configurationJSON: [UInt8]
    /// Requests between looking this endpoint up and queueing their job: a retired endpoint's pool stops
    /// only once they are all queued, so a swap loses none of them.
    private let leases = Atomic<Int>(0)
    /// The item table ranking candidates are filled from (`--item-table`), replaced whole when its file changes.
    private let itemTable = Mutex<ItemTable?>(nil)
    private let retired = Atomic<Bool>(false)
    private let leasesReturned = DispatchSemaphore(value: 0)

    /// Loads `bundle` with `backend` and makes it servable: the one place a bundle becomes an endpoint.
    static func make(_ bundle: ModelBundle, backend: InferenceBackend, configuration: ServerConfiguration,
                     metrics: ServingMetrics) throws(ServingError) -> ModelEndpoint {
        let spec = try TritonModelConfig.spec(for: bundle)
        let pool = try backend.makePool(bundle, configuration: configuration.pool, metrics: metrics, spec: spec)
        var rankingPool: ModelPool?
        if bundle.rankingPath != nil {
            do throws(ServingError) {
                rankingPool = try backend.makeRankingPool(bundle, configuration: configuration.pool, metrics: metrics, statistics: pool.statistics)
            } catch {
                pool.shutdown()
                throw error
            }
        }
        return ModelEndpoint(bundle: bundle, pool: pool, rankingPool: rankingPool, maxRows: configuration.maxRowsPerRequest,
                             ignoreUnknownFields: configuration.ignoreUnknownFields)
    }

    /// The item table in use now, if any.
    var items: ItemTable? { itemTable.withLock { $0 } }

    /// Serves ranking requests from `table` from now on.
    func setItems(_ table: ItemTable) {
        itemTable.withLock { $0 = table }
        pool.statistics.metrics?.setItemTableItems(table.count)
    }

    init(bundle: ModelBundle, pool: ModelPool, rankingPool: ModelPool? = nil, maxRows: Int, ignoreUnknownFields: Bool) {
        self.bundle = bundle
        self.pool = pool
        self.rankingPool = rankingPool
        if let rankingPool, let layout = rankingPool.ranking {
            let inputs = rankingPool.requestInputs
            rankingValidator = TensorInputValidator(
                model: bundle.name, inputs: inputs, batchable: true, maxRows: maxRows, encoding: rankingPool.encoding,
                perRequest: Set(inputs.indices.filter { inputs[$0].name.hasPrefix(RankingLayout.contextPrefix) }), ranking: layout)
        } else {
            rankingValidator = nil
        }
        let inputs = pool.requestInputs
        let outputs = pool.outputs
        let batchable = pool.batchable
        // A batching model's [batch] input is dims [1] with reshape [] in its config, and Triton's metadata shows
        // the config's dims: [-1, 1], which perf_analyzer and Triton's clients shape requests by. Both [n, 1]
        // and the model's own [n] are accepted.
        let shown = inputs.map { batchable && $0.shape == [-1] ? TensorDescription(name: $0.name, elementType: $0.elementType, shape: [-1, 1]) : $0 }
        metadata = ModelMetadata(name: bundle.name, versions: [bundle.version], inputs: shown, outputs: outputs)
        var parameters = [(key: "version", value: bundle.version)]
        let rowLimit = pool.maxRowsPerRequest.map { min($0, maxRows) } ?? maxRows
        validator = TensorInputValidator(model: bundle.name, inputs: pool.requestInputs, batchable: batchable, maxRows: rowLimit,
                                         encoding: pool.encoding, ragged: pool.raggedInputs, oneRowPerRequest: pool.oneRowPerRequest)
        if let encoding = pool.encoding {
            decoder = PredictRequestDecoder(schema: encoding.map.schema, maxInstances: maxRows, ignoreUnknownFields: ignoreUnknownFields)
            predictionLogLayout = PredictionRecords.Layout(encoding.map.schema)
            parameters.append((key: "feature_map_fingerprint", value: encoding.map.fingerprint))
        } else {
            decoder = nil
            predictionLogLayout = nil
        }
        var bytes: [UInt8] = []
        metadata.encode(into: &bytes)
        metadataJSON = bytes
        // Triton's rule: a model that batches lists its dims after the batch one and max_batch_size > 0; one
        // that does not lists them in full with max_batch_size 0.
        func tensor(_ tensor: TensorDescription) -> ModelConfiguration.Tensor {
            batchable ? ModelConfiguration.Tensor(name: tensor.name, datatype: tensor.elementType, modelShape: tensor.shape)
                : ModelConfiguration.Tensor(name: tensor.name, datatype: tensor.elementType, dims: tensor.shape)
        }
        let settings = pool.configuration
        var config = ModelConfiguration(
            name: bundle.name, maxBatchSize: batchable ? rowLimit : 0, inputs: inputs.map(tensor), outputs: outputs.map(tensor),
            dynamicBatching: pool.spec.map { $0.dynamicBatching && batchable } ?? batchable, preferredBatchSize: settings.maxBatchSize, maxQueueDelayMicroseconds: settings.maxQueueDelayMicroseconds,
            instanceCount: settings.threadCount, parameters: parameters)
        for index in pool.raggedInputs where index < config.inputs.count { config.inputs[index].ragged = true }
        config.batchInputs = (pool.spec?.batchInputs ?? []).map {
            (kind: $0.kind.rawValue, target: $0.target, datatype: $0.elementType, source: $0.source)
        }
        configuration = config
        bytes = []
        config.encode(into: &bytes)
        configurationJSON = bytes
    }

    var name: String { bundle.name }

    /// The outputs v2 infer returns: a CTR bundle's probability (its first output), every output of a plain model.
    var servedOutputs: [String] {
        pool.encoding == nil ? metadata.outputs.map(\.name) : [metadata.outputs[0].name]
    }

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
        shutdown()
    }

    /// Warms up every pool (blocking).
    func warmUp() throws(ServingError) {
        try pool.warmUp()
        try rankingPool?.warmUp()
    }

    /// What the log says beside "is serving": the ranking graph `:rank` runs, if any.
    var servingNote: String {
        rankingPool?.ranking.map { "; it ranks on its ranking graph: \($0.contextDescription)" } ?? ""
    }

    /// Stops every pool once its queued jobs have run. Idempotent.
    func shutdown() {
        pool.shutdown()
        rankingPool?.shutdown()
    }
}
