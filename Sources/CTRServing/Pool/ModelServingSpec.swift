/// A model's serving settings as a Triton `config.pbtxt` states them, in the serving core's terms.
///
/// The front end reads the file (it owns Triton's message types); the pool checks every setting against
/// the ONNX model when it loads and fails naming the key. A model without the file has no spec and keeps
/// the configuration inferred from its ONNX signature.
public struct ModelServingSpec: Sendable, Equatable {
    /// An input as clients send it: `dims` after the batch dimension when the model batches.
    public struct Input: Sendable, Equatable {
        public var name: String
        public var elementType: TensorElementType
        public var dims: [Int64]
        /// The shape (after the batch dimension) the model takes instead of `dims`, with as many elements.
        public var reshape: [Int64]?
        /// Requests may give it different shapes and still share a run: their elements are concatenated.
        public var ragged: Bool

        /// An input.
        public init(name: String, elementType: TensorElementType, dims: [Int64], reshape: [Int64]? = nil, ragged: Bool = false) {
            self.name = name
            self.elementType = elementType
            self.dims = dims
            self.reshape = reshape
            self.ragged = ragged
        }
    }

    /// An output the model gives.
    public struct Output: Sendable, Equatable {
        public var name: String
        public var elementType: TensorElementType
        public var dims: [Int64]

        /// An output.
        public init(name: String, elementType: TensorElementType, dims: [Int64]) {
            self.name = name
            self.elementType = elementType
            self.dims = dims
        }
    }

    /// What a batch input holds for each request of a run (Triton's kinds of the same names).
    public enum BatchInputKind: String, Sendable, Equatable {
        /// Each request's element count of the source input.
        case elementCount = "BATCH_ELEMENT_COUNT"
        /// The running total of those counts.
        case accumulatedElementCount = "BATCH_ACCUMULATED_ELEMENT_COUNT"
        /// The running total with a leading 0: an EmbeddingBag's offsets (`include_last_offset`).
        case accumulatedElementCountWithZero = "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO"
    }

    /// A model input the server builds for each run from the requests in it.
    public struct BatchInput: Sendable, Equatable {
        public var kind: BatchInputKind
        public var target: String
        public var elementType: TensorElementType
        public var source: String

        /// A batch input.
        public init(kind: BatchInputKind, target: String, elementType: TensorElementType, source: String) {
            self.kind = kind
            self.target = target
            self.elementType = elementType
            self.source = source
        }
    }

    /// Where the settings came from, for error messages.
    public var path: String
    /// Most rows in one request and in one run; 0: the model does not batch (inputs are given whole).
    public var maxBatchSize: Int
    /// Empty: the model's own inputs (Triton's auto-complete).
    public var inputs: [Input]
    public var outputs: [Output]
    public var batchInputs: [BatchInput]
    /// Dynamic batching: requests are merged into runs (without it, each request runs alone).
    public var dynamicBatching: Bool
    /// The largest preferred batch size, which caps a run's rows.
    public var preferredBatchSize: Int?
    public var maxQueueDelayMicroseconds: Int?
    /// Instances (inference threads and sessions) to run.
    public var instanceCount: Int?

    /// A spec read from `path`.
    public init(path: String, maxBatchSize: Int, inputs: [Input] = [], outputs: [Output] = [], batchInputs: [BatchInput] = [],
                dynamicBatching: Bool = false, preferredBatchSize: Int? = nil, maxQueueDelayMicroseconds: Int? = nil, instanceCount: Int? = nil) {
        self.path = path
        self.maxBatchSize = maxBatchSize
        self.inputs = inputs
        self.outputs = outputs
        self.batchInputs = batchInputs
        self.dynamicBatching = dynamicBatching
        self.preferredBatchSize = preferredBatchSize
        self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
        self.instanceCount = instanceCount
    }

    /// The pool settings this spec overrides in `base`: instances, and the batching of runs.
    func applied(to base: PoolConfiguration) -> PoolConfiguration {
        var configuration = base
        if let instanceCount { configuration.poolSize = instanceCount }
        if maxBatchSize == 0 || !dynamicBatching {
            configuration.maxBatchSize = 1
        } else {
            configuration.maxBatchSize = preferredBatchSize ?? maxBatchSize
        }
        if let maxQueueDelayMicroseconds { configuration.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds }
        return configuration
    }
}

/// How the requests' inputs become the model's inputs in a run: the identity for a model served as its
/// ONNX file says; with a spec, inputs may be reshaped, ragged (concatenated and flattened), or built by the
/// server (batch inputs).
struct RunPlan: Sendable {
    /// Where one model input comes from.
    enum Source: Sendable {
        /// Request input `index`; `flatten` gives it as one dimension of every request's elements (ragged);
        /// `inner` is the model's shape after the batch dimension when it differs from the request's (reshape).
        case request(index: Int, flatten: Bool, inner: [Int64]?)
        /// Built for each run from request input `source`'s element counts.
        case batch(kind: ModelServingSpec.BatchInputKind, source: Int, elementType: TensorElementType)
        /// Request input `index`, one row per request (a ranking graph's context): a run holds one row per job.
        case perRequest(index: Int)
        /// Built for each run: every row's job within the run (a ranking graph's `request_index`, int64 [rows]).
        case requestIndex
    }

    /// One source per model input, in the model's order.
    let sources: [Source]
    /// Request inputs whose shapes may differ between requests of one run.
    let ragged: Set<Int>
    /// Whether every model input is the request input of the same index, unchanged.
    let isIdentity: Bool

    /// The identity plan of `count` inputs.
    init(identity count: Int) {
        sources = (0..<count).map { .request(index: $0, flatten: false, inner: nil) }
        ragged = []
        isIdentity = true
    }

    init(sources: [Source], ragged: Set<Int>) {
        self.sources = sources
        self.ragged = ragged
        isIdentity = ragged.isEmpty && sources.enumerated().allSatisfy { index, source in
            if case .request(index, false, nil) = source { true } else { false }
        }
    }

    /// Whether a run's rows may be split in two along dim 0 (each half with its own rows of every input): the
    /// identity plan, or a ranking graph's (its per-request inputs go whole to both halves).
    var splitsByRows: Bool {
        isIdentity || (ragged.isEmpty && sources.contains { if case .requestIndex = $0 { true } else { false } }
            && sources.allSatisfy { if case .batch = $0 { false } else if case .request(_, let flatten, nil) = $0 { !flatten } else { true } })
    }

    /// Whether model input `index` is passed whole to both halves of a split run (one row per request, not per row).
    func isPerRequest(_ index: Int) -> Bool {
        if case .perRequest = sources[index] { true } else { false }
    }

    /// The plan of a ranking graph with `inputs` (model order): `request_index` built per run, inputs named
    /// `context_*` one row per request, the others the candidates'. Nil when the model has no `request_index`.
    static func ranking(inputs: [TensorDescription]) -> (requestInputs: [TensorDescription], plan: RunPlan)? {
        guard inputs.contains(where: { $0.name == RankingLayout.requestIndexName }) else { return nil }
        var requestInputs: [TensorDescription] = [], sources: [Source] = []
        for input in inputs {
            if input.name == RankingLayout.requestIndexName {
                sources.append(.requestIndex)
                continue
            }
            sources.append(input.name.hasPrefix(RankingLayout.contextPrefix) ? .perRequest(index: requestInputs.count)
                           : .request(index: requestInputs.count, flatten: false, inner: nil))
            requestInputs.append(input)
        }
        return (requestInputs, RunPlan(sources: sources, ragged: []))
    }

    /// A single job's model inputs under this plan without copying (a ranking warm-up); request indexes all 0.
    func inputs(of job: InferenceJob, requestIndex: UnsafeMutableRawBufferPointer) -> [InferenceJob.Input] {
        sources.map { source in
            switch source {
            case .request(let index, _, _), .perRequest(let index), .batch(_, let index, _): job.inputs[index]
            case .requestIndex: InferenceJob.Input(shape: [Int64(job.rows)], bytes: requestIndex)
            }
        }
    }
}

extension ModelPool {
    /// Checks `spec` against the ONNX model's `inputs` and `outputs` and derives what requests carry and how
    /// a run is assembled; a setting the model cannot honour is a load error naming its key.
    static func plan(_ spec: ModelServingSpec, inputs: [TensorDescription], outputs: [TensorDescription])
        throws(ServingError) -> (requestInputs: [TensorDescription], plan: RunPlan) {
        func fail(_ key: String, _ message: String) -> ServingError {
            ServingError(.modelLoad, "\(spec.path): \(key): \(message)")
        }
        func describe(_ shape: [Int64]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
        /// Whether a shape the config implies fits the model's (-1 on either side matches any size).
        func fits(_ stated: [Int64], _ model: [Int64]) -> Bool {
            stated.count == model.count && zip(stated, model).allSatisfy { $0 < 0 || $1 < 0 || $0 == $1 }
        }
        guard spec.maxBatchSize >= 0 else { throw fail("max_batch_size", "must be 0 (no batching) or more, got \(spec.maxBatchSize)") }
        let batching = spec.maxBatchSize > 0
        let modelIndex = Dictionary(inputs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let targets = Set(spec.batchInputs.map(\.target))
        let stated = spec.inputs.isEmpty
            ? inputs.filter { !targets.contains($0.name) }.map {
                ModelServingSpec.Input(name: $0.name, elementType: $0.elementType, dims: batching ? Array($0.shape.dropFirst()) : $0.shape)
            }
            : spec.inputs
        var sources = [RunPlan.Source?](repeating: nil, count: inputs.count)
        var ragged = Set<Int>()
        for (index, input) in stated.enumerated() {
            let key = "input \"\(input.name)\""
            guard let model = modelIndex[input.name] else {
                throw fail(key, "the model has no such input; it takes \(inputs.map(\.name))")
            }
            guard sources[model] == nil else { throw fail(key, "listed twice") }
            let tensor = inputs[model]
            guard input.elementType == tensor.elementType else {
                throw fail(key + " data_type", "\(input.elementType), but the model's input is \(tensor.elementType)")
            }
            if input.ragged {
                guard batching else { throw fail(key + " allow_ragged_batch", "needs max_batch_size > 0") }
                guard tensor.shape.count == 1 else {
                    throw fail(key + " allow_ragged_batch",
                               "a ragged input reaches the model as one dimension of every request's elements, but the model's input is \(describe(tensor.shape))")
                }
                ragged.insert(index)
                sources[model] = .request(index: index, flatten: true, inner: nil)
                continue
            }
            let inner = input.reshape ?? input.dims
            if let reshape = input.reshape, input.dims.allSatisfy({ $0 >= 0 }), reshape.allSatisfy({ $0 >= 0 }),
               input.dims.reduce(1, *) != reshape.reduce(1, *) {
                throw fail(key + " reshape", "\(describe(reshape)) does not hold the \(input.dims.reduce(1, *)) elements of dims \(describe(input.dims))")
            }
            let given = batching ? [-1] + inner : inner
            guard fits(given, tensor.shape) else {
                throw fail(key + " dims", "\(describe(input.dims))\(input.reshape.map { " reshaped to \(describe($0))" } ?? "") gives the model \(describe(given)), but its input is \(describe(tensor.shape))")
            }
            if batching && tensor.shape.first != -1 {
                throw fail("max_batch_size", "\(spec.maxBatchSize), but the model's input \"\(tensor.name)\" has a fixed first dimension \(tensor.shape.first ?? 0): it cannot batch (set max_batch_size: 0)")
            }
            sources[model] = .request(index: index, flatten: false, inner: input.reshape)
        }
        for batchInput in spec.batchInputs {
            let key = "batch_input target_name \"\(batchInput.target)\""
            guard let model = modelIndex[batchInput.target] else { throw fail(key, "the model has no such input; it takes \(inputs.map(\.name))") }
            guard sources[model] == nil else { throw fail(key, "is also a request input, or the target of another batch_input") }
            guard batching else { throw fail(key, "batch inputs need max_batch_size > 0") }
            guard [.int32, .int64, .fp32].contains(batchInput.elementType), batchInput.elementType == inputs[model].elementType else {
                throw fail(key + " data_type", "\(batchInput.elementType), but the model's input is \(inputs[model].elementType) (TYPE_INT32, TYPE_INT64 or TYPE_FP32, as the model takes it)")
            }
            guard inputs[model].shape.count == 1 else {
                throw fail(key, "a batch input is one dimension, but the model's input is \(describe(inputs[model].shape))")
            }
            guard let source = stated.firstIndex(where: { $0.name == batchInput.source }) else {
                throw fail("batch_input source_input \"\(batchInput.source)\"", "not an input of the config; inputs are \(stated.map(\.name))")
            }
            sources[model] = .batch(kind: batchInput.kind, source: source, elementType: batchInput.elementType)
        }
        if let missing = sources.firstIndex(where: { $0 == nil }) {
            throw fail("input", "the model's input \"\(inputs[missing].name)\" is neither a config input nor a batch_input target")
        }
        for output in spec.outputs {
            let key = "output \"\(output.name)\""
            guard let tensor = outputs.first(where: { $0.name == output.name }) else {
                throw fail(key, "the model has no such output; it gives \(outputs.map(\.name))")
            }
            guard output.elementType == tensor.elementType else {
                throw fail(key + " data_type", "\(output.elementType), but the model's output is \(tensor.elementType)")
            }
            let given = batching ? [-1] + output.dims : output.dims
            guard fits(given, tensor.shape) else {
                throw fail(key + " dims", "\(describe(output.dims)) gives \(describe(given)), but the model's output is \(describe(tensor.shape))")
            }
        }
        if batching, let fixed = outputs.first(where: { $0.shape.first != -1 }) {
            throw fail("max_batch_size", "\(spec.maxBatchSize), but the model's output \"\(fixed.name)\" has a fixed first dimension: it cannot batch (set max_batch_size: 0)")
        }
        let requestInputs = stated.map { input in
            TensorDescription(name: input.name, elementType: input.elementType, shape: batching ? [-1] + input.dims : input.dims)
        }
        return (requestInputs, RunPlan(sources: sources.map { $0! }, ragged: ragged))
    }
}
