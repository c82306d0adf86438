import CTRGRPCProtocol
import Foundation

/// A gRPC ModelInferRequest in the front-end-neutral form the core checks: tensors given as
/// `raw_input_contents` become `.binary` ranges of one joined buffer (what HTTP's binary extension gives
/// the core), typed `contents` become typed arrays.
struct GRPCInferRequest {
    let request: InferRequest
    /// The raw inputs, joined in input order; `.binary` ranges point into it.
    let bytes: [UInt8]

    /// Converts `message`, checking what only the wire form can get wrong: datatypes, shapes, element
    /// counts against `maxElements`, and raw sizes against shapes.
    init(_ message: Inference_ModelInferRequest, maxElements: Int) throws(ServerError) {
        let raw = message.rawInputContents
        guard raw.isEmpty || raw.count == message.inputs.count else {
            throw ServerError(.invalidArgument, "raw_input_contents has \(raw.count) entries for \(message.inputs.count) inputs: give every input raw or none")
        }
        var joined: [UInt8] = []
        joined.reserveCapacity(raw.reduce(0) { $0 + $1.count })
        var inputs: [InferInputTensor] = []
        inputs.reserveCapacity(message.inputs.count)
        var totalElements = 0
        for (index, input) in message.inputs.enumerated() {
            guard let datatype = InferDatatype(rawValue: input.datatype) else {
                throw ServerError(.invalidArgument, "input \"\(input.name)\": unknown datatype \"\(input.datatype)\"")
            }
            var elements = 1
            for dimension in input.shape {
                guard dimension >= 0 else {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\": shape \(input.shape) has a negative dimension")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
                guard !overflow, product <= maxElements else {
                    throw ServerError(.limitExceeded, "input \"\(input.name)\": shape \(input.shape) has more than \(maxElements) elements")
                }
                elements = product
            }
            totalElements += elements
            guard totalElements <= maxElements else {
                throw ServerError(.limitExceeded, "too many elements: more than \(maxElements) in one request (at input \"\(input.name)\")")
            }
            let data: InferTensorData
            if raw.isEmpty {
                guard input.hasContents else {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\" has no data: send raw_input_contents or contents")
                }
                data = try Self.typed(input.contents, datatype: datatype, name: input.name)
                guard data.count == elements else {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\": contents hold \(data.count ?? 0) elements, shape \(input.shape) needs \(elements)")
                }
            } else {
                let bytes = raw[index]
                if let size = datatype.elementSize, bytes.count != elements * size {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\": raw_input_contents[\(index)] has \(bytes.count) bytes, \(datatype.rawValue) \(input.shape) needs \(elements * size)")
                }
                let start = joined.count
                // Through the buffer pointer: Array.append(contentsOf: Data) takes the generic sequence path,
                // 2 % of the event loop's time on a 100-row call (perf, 2026-12-02).
                bytes.withUnsafeBytes { joined.append(contentsOf: $0) }
                data = .binary(start..<joined.count)
            }
            inputs.append(InferInputTensor(name: input.name, datatype: datatype, shape: input.shape,
                                           parameters: Self.parameters(input.parameters), data: data))
        }
        let outputs = message.outputs.isEmpty ? nil : message.outputs.map { InferRequestedOutput(name: $0.name, parameters: Self.parameters($0.parameters)) }
        request = InferRequest(id: message.id.isEmpty ? nil : message.id, parameters: Self.parameters(message.parameters),
                               inputs: inputs, outputs: outputs)
        bytes = joined
    }

    /// A `contents` message as the typed array its datatype uses (Triton's field per type).
    private static func typed(_ contents: Inference_InferTensorContents, datatype: InferDatatype, name: String) throws(ServerError) -> InferTensorData {
        switch datatype {
        case .bool: return .bool(contents.boolContents)
        case .int8: return .int8(contents.intContents.map { Int8(truncatingIfNeeded: $0) })
        case .int16: return .int16(contents.intContents.map { Int16(truncatingIfNeeded: $0) })
        case .int32: return .int32(contents.intContents)
        case .int64: return .int64(contents.int64Contents)
        case .uint8: return .uint8(contents.uintContents.map { UInt8(truncatingIfNeeded: $0) })
        case .uint16: return .uint16(contents.uintContents.map { UInt16(truncatingIfNeeded: $0) })
        case .uint32: return .uint32(contents.uintContents)
        case .uint64: return .uint64(contents.uint64Contents)
        case .fp32: return .fp32(contents.fp32Contents)
        case .fp64: return .fp64(contents.fp64Contents)
        case .bytes: return .bytes(contents.bytesContents.map { Array($0) })
        case .fp16, .bf16:
            throw ServerError(.invalidArgument, "input \"\(name)\": \(datatype.rawValue) has no typed contents field; send it in raw_input_contents")
        }
    }

    /// Protobuf parameters as the core's values (uint64 that fit Int64 become integers).
    static func parameters(_ map: [String: Inference_InferParameter]) -> [String: InferParameter] {
        var result: [String: InferParameter] = [:]
        for (key, value) in map {
            switch value.parameterChoice {
            case .boolParam(let v): result[key] = .bool(v)
            case .int64Param(let v): result[key] = .int(v)
            case .uint64Param(let v): result[key] = Int64(exactly: v).map(InferParameter.int) ?? .double(Double(v))
            case .doubleParam(let v): result[key] = .double(v)
            case .stringParam(let v): result[key] = .string(v)
            case nil: continue
            }
        }
        return result
    }
}
