import CTRFeatures
import CTRServing

/// Checks a KServe v2 request's tensors against a model's signature and copies them into a job.
///
/// Every check happens before the job is queued, because one bad row would otherwise fail the whole
/// batch it is merged into: names, element types, shapes (`[rows, width]`, the same rows for every
/// input, at most `maxRows`), ids inside their field's block of the embedding table, finite numbers.
/// Built once per served model, so a request only checks.
package struct InferInputValidator: Sendable {
    let signature: ModelSignature
    let model: String
    let maxRows: Int
    /// The decoder's element cap: every input of a request of `maxRows` rows (the row limit itself is
    /// checked per input by ``rows(of:)``).
    package let maxElements: Int
    /// Per signature input, per column: the field it belongs to and the id range of its vocabulary block
    /// (empty for the numeric input).
    private let columnRanges: [[(field: String, low: Int64, high: Int64)]]
    /// Why v2 infer cannot serve this model, if it cannot.
    private let unsupported: String?

    /// A validator for `map`'s signature.
    package init(map: FeatureMap, model: String, maxRows: Int) {
        let signature = map.signature
        self.signature = signature
        self.model = model
        self.maxRows = maxRows
        unsupported = map.encoding == .fuxictr
            ? "model \"\(model)\" was imported from FuxiCTR and takes one input per feature, which KServe v2 infer does not accept yet; send raw rows to POST /v1/models/\(model):predict"
            : nil
        maxElements = maxRows * max(signature.inputs.reduce(0) { $0 + $1.width }, 1)
        let offsets = map.fieldOffsets.map(Int64.init), sizes = map.fieldVocabularySizes.map(Int64.init)
        func block(_ name: String, _ b: Int) -> (field: String, low: Int64, high: Int64) { (name, offsets[b], offsets[b] + sizes[b]) }
        columnRanges = signature.inputs.map { tensor in
            switch tensor.role {
            case .categoricalIDs:
                return tensor.fields.enumerated().map { block($1, $0) }
            case .sequenceIDs:
                // Each column belongs to one sequence field, whose tokens live in its vocabulary block.
                return zip(tensor.fields, zip(map.sequenceBlocks, map.sequenceLengths)).flatMap { name, layout in
                    Array(repeating: block(name, layout.0), count: layout.1)
                }
            case .numericValues, .probability:
                return []
            }
        }
    }

    private func describe(_ tensor: ModelSignature.Tensor) -> String {
        "\(tensor.elementType.rawValue) [batch,\(tensor.width)]"
    }

    /// The request's row count, or the first problem with its inputs.
    package func rows(of request: InferRequest) -> Result<Int, RequestDecodeError> {
        if let unsupported { return .failure(RequestDecodeError(.invalidRequest, unsupported)) }
        let expected = signature.inputs
        for input in request.inputs where !expected.contains(where: { $0.name == input.name }) {
            let list = expected.map { "\"\($0.name)\" (\(describe($0)))" }.joined(separator: ", ")
            return .failure(RequestDecodeError(.invalidRequest, "unknown input \"\(input.name)\"; model \"\(model)\" takes \(list)"))
        }
        var rows: Int64?
        for tensor in expected {
            guard let input = request.input(named: tensor.name) else {
                return .failure(RequestDecodeError(.invalidRequest, "missing input \"\(tensor.name)\" (\(describe(tensor)))"))
            }
            let typeOK = tensor.elementType == .int64 ? (input.datatype == .int64 || input.datatype == .int32) : input.datatype == .fp32
            guard typeOK else {
                let allowed = tensor.elementType == .int64 ? "INT64 (or INT32)" : "FP32"
                return .failure(RequestDecodeError(.invalidRequest, "input \"\(input.name)\" must be \(allowed), got \(input.datatype.rawValue)"))
            }
            guard input.shape.count == 2, input.shape[1] == Int64(tensor.width), input.shape[0] >= 1,
                  rows == nil || input.shape[0] == rows else {
                let batch = rows.map(String.init) ?? "batch"
                return .failure(RequestDecodeError(.invalidRequest, "input \"\(input.name)\" must have shape [\(batch),\(tensor.width)], got \(input.shape)"))
            }
            rows = input.shape[0]
        }
        let count = Int(rows ?? 0)
        guard count <= maxRows else {
            return .failure(RequestDecodeError(.limitExceeded, "too many rows: \(count) > \(maxRows)"))
        }
        return .success(count)
    }

    /// Copies every input into `job` and checks its values; nil when all is well.
    package func fill(_ job: InferenceJob, from request: InferRequest, bytes: UnsafeRawBufferPointer) -> RequestDecodeError? {
        for (index, tensor) in signature.inputs.enumerated() {
            guard let input = request.input(named: tensor.name) else { continue }  // `rows(of:)` ran first
            switch tensor.role {
            case .categoricalIDs:
                if let error = Self.copy(input, into: job.ids, bytes: bytes) { return error }
                if let error = checkIDs(job.ids, input: input.name, columns: columnRanges[index]) { return error }
            case .sequenceIDs:
                if let error = Self.copy(input, into: job.sequences, bytes: bytes) { return error }
                if let error = checkIDs(job.sequences, input: input.name, columns: columnRanges[index]) { return error }
            case .numericValues:
                if let error = Self.copy(input, into: job.dense, bytes: bytes) { return error }
                for index in 0..<job.dense.count where !job.dense[index].isFinite {
                    return RequestDecodeError(.invalidRequest,
                        "input \"\(input.name)\" row \(index / tensor.width) column \(index % tensor.width) (\(tensor.fields[index % tensor.width])) holds a non-finite value")
                }
            case .probability:
                continue
            }
        }
        return nil
    }

    private func checkIDs(_ ids: UnsafeMutableBufferPointer<Int64>, input: String,
                          columns: [(field: String, low: Int64, high: Int64)]) -> RequestDecodeError? {
        let width = columns.count
        var column = 0
        for index in 0..<ids.count {
            let id = ids[index], range = columns[column]
            if id < range.low || id >= range.high {
                return RequestDecodeError(.invalidRequest,
                    "input \"\(input)\" row \(index / width) column \(column) (\(range.field)) holds id \(id), outside that field's range [\(range.low), \(range.high))")
            }
            column += 1
            if column == width { column = 0 }
        }
        return nil
    }

    /// Copies a decoded v2 tensor into a job buffer; the element count was checked by the decoder.
    private static func copy(_ tensor: InferInputTensor, into destination: UnsafeMutableBufferPointer<Int64>, bytes: UnsafeRawBufferPointer) -> RequestDecodeError? {
        switch tensor.data {
        case .int64(let values) where values.count == destination.count:
            _ = destination.update(fromContentsOf: values)
        case .int32(let values) where values.count == destination.count:
            for (index, value) in values.enumerated() { destination[index] = Int64(value) }
        case .binary(let range) where tensor.datatype == .int64 && range.count == destination.count * 8:
            for index in 0..<destination.count {
                destination[index] = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound + index * 8, as: Int64.self))
            }
        case .binary(let range) where tensor.datatype == .int32 && range.count == destination.count * 4:
            for index in 0..<destination.count {
                destination[index] = Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound + index * 4, as: Int32.self)))
            }
        default:
            return RequestDecodeError(.invalidRequest, "input \"\(tensor.name)\" holds data that does not match \(tensor.datatype.rawValue) \(tensor.shape)")
        }
        return nil
    }

    private static func copy(_ tensor: InferInputTensor, into destination: UnsafeMutableBufferPointer<Float>, bytes: UnsafeRawBufferPointer) -> RequestDecodeError? {
        switch tensor.data {
        case .fp32(let values) where values.count == destination.count:
            _ = destination.update(fromContentsOf: values)
        case .binary(let range) where range.count == destination.count * 4:
            for index in 0..<destination.count {
                destination[index] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: range.lowerBound + index * 4, as: UInt32.self)))
            }
        default:
            return RequestDecodeError(.invalidRequest, "input \"\(tensor.name)\" holds data that does not match FP32 \(tensor.shape)")
        }
        return nil
    }
}
