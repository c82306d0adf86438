import CTRServing

/// Checks a KServe v2 request against a model's own inputs and copies it into a job: the one v2 validator,
/// for plain ONNX models and CTR bundles alike.
///
/// Every check runs before the job is queued, so a bad request never fails a batch it would be merged into:
/// input names, datatypes (exactly the model's, as Triton requires), ranks, every fixed dimension, and, when
/// the model batches, one shared first dimension of at most `maxRows`. A CTR bundle's stage adds what it
/// knows: ids inside their field's vocabulary, finite numbers, and INT32 ids accepted for its INT64 inputs
/// (widened on copy; clients that build id tensors from 32-bit arrays need not convert).
package struct TensorInputValidator: Sendable {
    let model: String
    let inputs: [TensorDescription]
    let datatypes: [TensorElementType]
    let batchable: Bool
    let maxRows: Int
    /// The CTR bundle's stage, whose value checks run after the copy; nil for a plain ONNX model.
    let encoding: FeatureEncodingStage?
    /// Inputs whose dimensions after the batch are free (`allow_ragged_batch`): any shape of the right rank.
    let ragged: Set<Int>
    /// Whether a request must be one row (a model with batch inputs builds one entry per request).
    let oneRowPerRequest: Bool
    /// Inputs that hold the request's one row, whatever its batch (a ranking graph's context): first dimension 1.
    let perRequest: Set<Int>
    /// A ranking graph's layout, whose value checks replace the stage's.
    let ranking: RankingLayout?
    /// The most elements one request may carry: the inputs' fixed size times `maxRows` (for a model that does
    /// not batch too, so a wrong shape gets its shape error rather than a size limit), the decoder's default
    /// cap when a dimension other than the batch is dynamic.
    package let maxElements: Int

    /// A validator for `inputs` (the model's order).
    package init(model: String, inputs: [TensorDescription], batchable: Bool, maxRows: Int, encoding: FeatureEncodingStage? = nil,
                 ragged: Set<Int> = [], oneRowPerRequest: Bool = false, perRequest: Set<Int> = [], ranking: RankingLayout? = nil) {
        self.model = model
        self.perRequest = perRequest
        self.ranking = ranking
        self.encoding = encoding
        self.ragged = ragged
        self.oneRowPerRequest = oneRowPerRequest
        self.inputs = inputs
        self.batchable = batchable
        self.maxRows = maxRows
        datatypes = inputs.map(\.elementType)
        let inner = inputs.map { batchable ? Array($0.shape.dropFirst()) : $0.shape }
        if inner.allSatisfy({ $0.allSatisfy { $0 >= 0 } }) {
            let perRow = inner.reduce(0) { $0 + Int($1.reduce(1, *)) }
            maxElements = max(1, maxRows * perRow)
        } else {
            maxElements = 1 << 24
        }
    }

    /// `FP32 [-1,4]`, as error messages describe a model input.
    private func describe(_ index: Int) -> String {
        "\(datatypes[index].rawValue) [\(inputs[index].shape.map(String.init).joined(separator: ","))]"
    }

    /// The request's inputs in the model's order with its rows (the batch dimension, or 1), or the first problem.
    package func check(_ request: InferRequest) -> Result<(rows: Int, inputs: [InferInputTensor]), RequestDecodeError> {
        for input in request.inputs where !inputs.contains(where: { $0.name == input.name }) {
            let list = inputs.indices.map { "\"\(inputs[$0].name)\" (\(describe($0)))" }.joined(separator: ", ")
            return .failure(RequestDecodeError(.invalidRequest, "unknown input \"\(input.name)\"; model \"\(model)\" takes \(list)"))
        }
        var ordered: [InferInputTensor] = []
        var rows: Int64?
        for (index, tensor) in inputs.enumerated() {
            guard let requested = request.input(named: tensor.name) else {
                return .failure(RequestDecodeError(.invalidRequest, "missing input \"\(tensor.name)\" (\(describe(index)))"))
            }
            var input = requested
            let widened = encoding != nil && datatypes[index] == .int64 && input.datatype == .int32
            guard input.datatype == datatypes[index] || widened else {
                let allowed = encoding != nil && datatypes[index] == .int64 ? "INT64 (or INT32)" : datatypes[index].rawValue
                return .failure(RequestDecodeError(.invalidRequest,
                    "input \"\(input.name)\" must be \(allowed), got \(input.datatype.rawValue)"))
            }
            if batchable && tensor.shape.count == 1 && input.shape.count == 2 && input.shape[1] == 1 {
                // The model config shows a [batch] input as dims [1] with reshape [] (Triton's way), so Triton's
                // tools send [batch, 1]: the same elements, reshaped to the model's [batch] as Triton does.
                input.shape = [input.shape[0]]
            }
            let fits = ragged.contains(index) ? input.shape.count == tensor.shape.count && input.shape.allSatisfy { $0 >= 0 }
                : input.shape.count == tensor.shape.count && zip(input.shape, tensor.shape).allSatisfy { $1 < 0 || $0 == $1 }
            guard fits else {
                return .failure(RequestDecodeError(.invalidRequest, "input \"\(input.name)\" must have shape \(describe(index)) (-1: any), got \(input.shape)"))
            }
            if perRequest.contains(index) {
                guard input.shape.first == 1 else {
                    return .failure(RequestDecodeError(.invalidRequest,
                        "input \"\(input.name)\" holds the request's context: its first dimension must be 1 (one request), got \(input.shape.first ?? 0)"))
                }
            } else if batchable {
                guard let first = input.shape.first, first >= 1, rows == nil || first == rows else {
                    let expected = rows.map { "the batch size \($0) the other inputs have" } ?? "at least 1"
                    return .failure(RequestDecodeError(.invalidRequest,
                        "input \"\(input.name)\" has first (batch) dimension \(input.shape.first ?? 0), expected \(expected)"))
                }
                rows = first
            }
            ordered.append(input)
        }
        let count = Int(rows ?? 1)
        if oneRowPerRequest && count != 1 {
            return .failure(RequestDecodeError(.invalidRequest,
                "model \"\(model)\" builds batch inputs with one entry per request (config.pbtxt's batch_input), so each request is one row; got \(count)"))
        }
        guard count <= maxRows else {
            return .failure(RequestDecodeError(.limitExceeded, "too many rows: \(count) > \(maxRows)"))
        }
        return .success((count, ordered))
    }

    /// Copies the checked inputs (model order) into `job`'s buffers and checks their values; nil when all is well.
    package func fill(_ job: InferenceJob, from inputs: [InferInputTensor], bytes: UnsafeRawBufferPointer) -> RequestDecodeError? {
        for (index, (input, destination)) in zip(inputs, job.inputs).enumerated() {
            let copied = input.datatype == datatypes[index]
                ? Self.copy(input.data, into: destination.bytes, bytes: bytes)
                : Self.widen(input.data, into: destination.elements(Int64.self), bytes: bytes)
            guard copied else {
                return RequestDecodeError(.invalidRequest,
                    "input \"\(input.name)\" holds data that does not match \(input.datatype.rawValue) \(input.shape) (\(destination.bytes.count) bytes)")
            }
        }
        if let problem = ranking.map({ $0.checkValues(job) }) ?? encoding?.checkValues(job) { return RequestDecodeError(.invalidRequest, problem) }
        return nil
    }

    /// INT32 elements (JSON or binary) widened into an INT64 buffer of exactly their count.
    private static func widen(_ data: InferTensorData, into destination: UnsafeMutableBufferPointer<Int64>, bytes: UnsafeRawBufferPointer) -> Bool {
        switch data {
        case .int32(let values) where values.count == destination.count:
            for (index, value) in values.enumerated() { destination[index] = Int64(value) }
        case .binary(let range) where range.count == destination.count * 4 && range.upperBound <= bytes.count:
            for index in 0..<destination.count {
                destination[index] = Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound + index * 4, as: Int32.self)))
            }
        default:
            return false
        }
        return true
    }

    /// Little-endian element bytes of a decoded tensor into `destination`, which has exactly the shape's size.
    private static func copy(_ data: InferTensorData, into destination: UnsafeMutableRawBufferPointer, bytes: UnsafeRawBufferPointer) -> Bool {
        func store<T: BitwiseCopyable>(_ values: [T]) -> Bool {
            guard values.count * MemoryLayout<T>.size == destination.count else { return false }
            values.withUnsafeBytes { destination.copyMemory(from: $0) }
            return true
        }
        switch data {
        case .binary(let range):
            guard range.count == destination.count, range.upperBound <= bytes.count else { return false }
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[range]))
            return true
        case .bool(let values): return store(values.map { $0 ? UInt8(1) : 0 })
        case .uint8(let values): return store(values)
        case .uint16(let values): return store(values)
        case .uint32(let values): return store(values)
        case .uint64(let values): return store(values)
        case .int8(let values): return store(values)
        case .int16(let values): return store(values)
        case .int32(let values): return store(values)
        case .int64(let values): return store(values)
        case .fp32(let values): return store(values)
        case .fp64(let values): return store(values)
        case .bytes: return false
        }
    }
}
