import CTRServing
/// A served model's configuration in Triton's `ModelConfig` terms, which perf_analyzer and Triton's
/// clients read before they send anything (`GET /v2/models/{m}/config`, gRPC ModelConfig).
public struct ModelConfiguration: Sendable, Equatable {
    /// One input or output: dims exclude the batch dimension when `maxBatchSize > 0`, as Triton's do.
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var datatype: TensorElementType
        public var dims: [Int64]
        /// The model's own shape when it differs from `dims`: a per-feature `[batch]` input is written
        /// `dims: [1]`, `reshape: []`, as Triton writes it.
        public var reshape: [Int64]?
        /// Requests may give it different shapes and still share a run (`allow_ragged_batch`).
        public var ragged = false

        /// A tensor of the model with `shape` (batch first): its config dims and reshape.
        init(name: String, datatype: TensorElementType, modelShape shape: [Int64]) {
            self.name = name
            self.datatype = datatype
            let inner = Array(shape.dropFirst())
            dims = inner.isEmpty ? [1] : inner
            reshape = inner.isEmpty ? [] : nil
        }

        /// A tensor of a model that does not batch: its dims are the model's whole shape.
        init(name: String, datatype: TensorElementType, dims: [Int64]) {
            self.name = name
            self.datatype = datatype
            self.dims = dims
            reshape = nil
        }
    }

    public var name: String
    public var platform = "onnxruntime_onnx"
    public var backend = "onnxruntime"
    /// The most rows one request may carry (`--max-rows-per-request`); 0 would mean "does not batch".
    public var maxBatchSize: Int
    public var inputs: [Tensor]
    public var outputs: [Tensor]
    /// Whether requests' rows are merged (Triton's `dynamic_batching`); false for a model that cannot batch.
    public var dynamicBatching = true
    /// The batch queue's merge target (`--max-batch-size`) and wait (`--max-queue-delay-us`).
    public var preferredBatchSize: Int
    public var maxQueueDelayMicroseconds: Int
    /// Inference threads (`--pool-size`), Triton's CPU instance count.
    public var instanceCount: Int
    /// Free-form facts (the bundle's version and feature-map fingerprint), Triton's `parameters`.
    public var parameters: [(key: String, value: String)]
    /// Inputs the server builds per run (a `config.pbtxt`'s `batch_input`): Triton's kind name, target, type, source.
    public var batchInputs: [(kind: String, target: String, datatype: TensorElementType, source: String)] = []

    public static func == (a: ModelConfiguration, b: ModelConfiguration) -> Bool {
        a.name == b.name && a.maxBatchSize == b.maxBatchSize && a.inputs == b.inputs && a.outputs == b.outputs && a.dynamicBatching == b.dynamicBatching
            && a.preferredBatchSize == b.preferredBatchSize && a.maxQueueDelayMicroseconds == b.maxQueueDelayMicroseconds
            && a.instanceCount == b.instanceCount && a.parameters.map(\.key) == b.parameters.map(\.key)
            && a.parameters.map(\.value) == b.parameters.map(\.value)
            && a.batchInputs.map(\.target) == b.batchInputs.map(\.target) && a.batchInputs.map(\.kind) == b.batchInputs.map(\.kind)
    }

    /// Triton's `DataType` enum name of a v2 datatype (`FP32` → `TYPE_FP32`, `BYTES` → `TYPE_STRING`).
    public static func tritonTypeName(_ datatype: TensorElementType) -> String {
        datatype == .bytes ? "TYPE_STRING" : "TYPE_" + datatype.rawValue
    }

    /// The JSON Triton answers: snake_case names, enums as strings, int64s as numbers, defaults printed.
    public func encode(into out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"name\":", to: &out)
        JSONWriter.appendString(name, to: &out)
        JSONWriter.appendRaw(",\"platform\":", to: &out)
        JSONWriter.appendString(platform, to: &out)
        JSONWriter.appendRaw(",\"backend\":", to: &out)
        JSONWriter.appendString(backend, to: &out)
        JSONWriter.appendRaw(",\"version_policy\":{\"latest\":{\"num_versions\":1}},\"max_batch_size\":", to: &out)
        JSONWriter.appendInteger(maxBatchSize, to: &out)
        JSONWriter.appendRaw(",\"input\":[", to: &out)
        Self.encode(inputs, input: true, into: &out)
        JSONWriter.appendRaw("],\"output\":[", to: &out)
        Self.encode(outputs, input: false, into: &out)
        JSONWriter.appendRaw("],\"batch_input\":[", to: &out)
        for (index, batchInput) in batchInputs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendRaw("{\"kind\":", to: &out)
            JSONWriter.appendString(batchInput.kind, to: &out)
            JSONWriter.appendRaw(",\"target_name\":[", to: &out)
            JSONWriter.appendString(batchInput.target, to: &out)
            JSONWriter.appendRaw("],\"data_type\":", to: &out)
            JSONWriter.appendString(Self.tritonTypeName(batchInput.datatype), to: &out)
            JSONWriter.appendRaw(",\"source_input\":[", to: &out)
            JSONWriter.appendString(batchInput.source, to: &out)
            JSONWriter.appendRaw("]}", to: &out)
        }
        JSONWriter.appendRaw("],\"batch_output\":[],\"optimization\":{\"priority\":\"PRIORITY_DEFAULT\",\"input_pinned_memory\":{\"enable\":true},\"output_pinned_memory\":{\"enable\":true}}", to: &out)
        if dynamicBatching {
            JSONWriter.appendRaw(",\"dynamic_batching\":{\"preferred_batch_size\":[", to: &out)
            JSONWriter.appendInteger(preferredBatchSize, to: &out)
            JSONWriter.appendRaw("],\"max_queue_delay_microseconds\":", to: &out)
            JSONWriter.appendInteger(maxQueueDelayMicroseconds, to: &out)
            JSONWriter.appendRaw(",\"preserve_ordering\":false}", to: &out)
        }
        JSONWriter.appendRaw(",\"instance_group\":[{\"name\":", to: &out)
        JSONWriter.appendString(name, to: &out)
        JSONWriter.appendRaw(",\"kind\":\"KIND_CPU\",\"count\":", to: &out)
        JSONWriter.appendInteger(instanceCount, to: &out)
        JSONWriter.appendRaw(",\"gpus\":[]}],\"default_model_filename\":\"model.onnx\",\"parameters\":{", to: &out)
        for (index, parameter) in parameters.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(parameter.key, to: &out)
            JSONWriter.appendRaw(":{\"string_value\":", to: &out)
            JSONWriter.appendString(parameter.value, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        JSONWriter.appendRaw("}}", to: &out)
    }

    private static func encode(_ tensors: [Tensor], input: Bool, into out: inout [UInt8]) {
        for (index, tensor) in tensors.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendRaw("{\"name\":", to: &out)
            JSONWriter.appendString(tensor.name, to: &out)
            JSONWriter.appendRaw(",\"data_type\":", to: &out)
            JSONWriter.appendString(tritonTypeName(tensor.datatype), to: &out)
            JSONWriter.appendRaw(",\"dims\":[", to: &out)
            for (i, dim) in tensor.dims.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendInteger(dim, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            if let reshape = tensor.reshape {
                JSONWriter.appendRaw(",\"reshape\":{\"shape\":[", to: &out)
                for (i, dim) in reshape.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    JSONWriter.appendInteger(dim, to: &out)
                }
                JSONWriter.appendRaw("]}", to: &out)
            }
            if input {
                JSONWriter.appendRaw(tensor.ragged ? ",\"format\":\"FORMAT_NONE\",\"is_shape_tensor\":false,\"allow_ragged_batch\":true,\"optional\":false}"
                                                   : ",\"format\":\"FORMAT_NONE\",\"is_shape_tensor\":false,\"allow_ragged_batch\":false,\"optional\":false}", to: &out)
            } else {
                JSONWriter.appendRaw(",\"label_filename\":\"\",\"is_shape_tensor\":false}", to: &out)
            }
        }
    }
}
