import CTRFeatures
import CTRServing

/// Checks a KServe v2 request's tensors against a model's signature and copies them into a job.
///
/// Every check happens before the job is queued, because one bad row would otherwise fail the whole
/// batch it is merged into: names, element types, shapes (`[rows, width]`, the same rows for every
/// input, at most `maxRows`), ids inside their field's block of the embedding table, finite numbers.
struct InferInputValidator {
    let signature: ModelSignature
    let model: String
    let maxRows: Int

    private func describe(_ tensor: ModelSignature.Tensor) -> String {
        "\(tensor.elementType.rawValue) [batch,\(tensor.width)]"
    }

    /// The request's row count, or the first problem with its inputs.
    func rows(of request: InferRequest) -> Result<Int, RequestDecodeError> {
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
    func fill(_ job: InferenceJob, from request: InferRequest, bytes: UnsafeRawBufferPointer, map: FeatureMap) -> RequestDecodeError? {
        let offsets = map.fieldOffsets, sizes = map.fieldVocabularySizes
        for tensor in signature.inputs {
            guard let input = request.input(named: tensor.name) else { continue }  // `rows(of:)` ran first
            switch tensor.role {
            case .categoricalIDs:
                if let error = Self.copy(input, into: job.ids, bytes: bytes) { return error }
                let names = tensor.fields
                if let error = checkIDs(job.ids, width: tensor.width, input: input.name, column: { column in
                    (names[column], offsets[column], sizes[column])
                }) { return error }
            case .sequenceIDs:
                if let error = Self.copy(input, into: job.sequences, bytes: bytes) { return error }
                // Each column belongs to one sequence field, whose tokens live in its vocabulary block.
                var owners: [(String, Int, Int)] = []
                for (field, (block, length)) in zip(map.schema.sequenceFields, zip(map.sequenceBlocks, map.sequenceLengths)) {
                    owners += Array(repeating: (field.name, offsets[block], sizes[block]), count: length)
                }
                if let error = checkIDs(job.sequences, width: tensor.width, input: input.name, column: { owners[$0] }) { return error }
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

    private func checkIDs(_ ids: UnsafeMutableBufferPointer<Int64>, width: Int, input: String,
                          column owner: (Int) -> (name: String, offset: Int, size: Int)) -> RequestDecodeError? {
        var column = 0
        for index in 0..<ids.count {
            let id = ids[index]
            let (name, offset, size) = owner(column)
            if id < offset || id >= offset + size {
                return RequestDecodeError(.invalidRequest,
                    "input \"\(input)\" row \(index / width) column \(column) (\(name)) holds id \(id), outside that field's range [\(offset), \(offset + size))")
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
