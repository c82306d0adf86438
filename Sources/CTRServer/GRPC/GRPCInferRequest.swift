import CTRServing
import CTRGRPCProtocol
import Foundation
import NIOCore

/// A gRPC ModelInferRequest in the front-end-neutral form the core checks: tensors given as
/// `raw_input_contents` become `.binary` ranges of ``bytes`` (what HTTP's binary extension gives the core),
/// typed `contents` become typed arrays.
struct GRPCInferRequest {
    /// One input as the wire gave it, before the checks.
    struct Input {
        var name: String
        var datatype: String
        var shape: [Int64]
        var parameters: [String: InferParameter]
        /// Typed `contents`, when the input was sent that way instead of in `raw_input_contents`.
        var contents: Inference_InferTensorContents?
    }

    let request: InferRequest
    /// What the `.binary` ranges index: the received message itself (read in place by ``ModelInferWire``),
    /// or the raw inputs of a swift-protobuf message joined in input order.
    let bytes: ByteBuffer

    /// Converts a swift-protobuf `message` (grpc-swift's server, or a request with typed contents).
    init(_ message: Inference_ModelInferRequest, maxElements: Int) throws(ServerError) {
        var joined = ByteBufferAllocator().buffer(capacity: message.rawInputContents.reduce(0) { $0 + $1.count })
        var raw: [Range<Int>] = []
        raw.reserveCapacity(message.rawInputContents.count)
        for contents in message.rawInputContents {
            let start = joined.writerIndex
            // Through the buffer pointer: appending a Data as a sequence takes the generic path (perf, 2026-12-02).
            contents.withUnsafeBytes { _ = joined.writeBytes($0) }
            raw.append(start..<joined.writerIndex)
        }
        let inputs = message.inputs.map { input in
            Input(name: input.name, datatype: input.datatype, shape: input.shape, parameters: Self.parameters(input.parameters),
                  contents: input.hasContents ? input.contents : nil)
        }
        let outputs = message.outputs.map { InferRequestedOutput(name: $0.name, parameters: Self.parameters($0.parameters)) }
        try self.init(id: message.id, parameters: Self.parameters(message.parameters), inputs: inputs, outputs: outputs,
                      raw: raw, bytes: joined, maxElements: maxElements)
    }

    /// Converts a request read in place from `message` by ``ModelInferWire``: its raw inputs are not copied.
    init(_ wire: ModelInferWire.Request, message: ByteBuffer, maxElements: Int) throws(ServerError) {
        try self.init(id: wire.id, parameters: wire.parameters, inputs: wire.inputs, outputs: wire.outputs,
                      raw: wire.raw, bytes: message, maxElements: maxElements)
    }

    /// Checks what only the wire form can get wrong: datatypes, shapes, element counts against
    /// `maxElements`, and raw sizes against shapes.
    private init(id: String, parameters: [String: InferParameter], inputs wireInputs: [Input], outputs: [InferRequestedOutput],
                 raw: [Range<Int>], bytes: ByteBuffer, maxElements: Int) throws(ServerError) {
        guard raw.isEmpty || raw.count == wireInputs.count else {
            throw ServerError(.invalidArgument, "raw_input_contents has \(raw.count) entries for \(wireInputs.count) inputs: give every input raw or none")
        }
        var inputs: [InferInputTensor] = []
        inputs.reserveCapacity(wireInputs.count)
        var totalElements = 0
        for (index, input) in wireInputs.enumerated() {
            guard let datatype = TensorElementType(rawValue: input.datatype) else {
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
                guard let contents = input.contents else {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\" has no data: send raw_input_contents or contents")
                }
                data = try Self.typed(contents, datatype: datatype, name: input.name)
                guard data.count == elements else {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\": contents hold \(data.count ?? 0) elements, shape \(input.shape) needs \(elements)")
                }
            } else {
                let range = raw[index]
                if let size = datatype.byteSize, range.count != elements * size {
                    throw ServerError(.invalidArgument, "input \"\(input.name)\": raw_input_contents[\(index)] has \(range.count) bytes, \(datatype.rawValue) \(input.shape) needs \(elements * size)")
                }
                data = .binary(range)
            }
            inputs.append(InferInputTensor(name: input.name, datatype: datatype, shape: input.shape, parameters: input.parameters, data: data))
        }
        request = InferRequest(id: id.isEmpty ? nil : id, parameters: parameters, inputs: inputs, outputs: outputs.isEmpty ? nil : outputs)
        self.bytes = bytes
    }

    /// A `contents` message as the typed array its datatype uses (Triton's field per type).
    private static func typed(_ contents: Inference_InferTensorContents, datatype: TensorElementType, name: String) throws(ServerError) -> InferTensorData {
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

extension InferRequest {
    /// A gRPC ModelInferRequest message as our gRPC server reads it (in place, or through swift-protobuf for typed
    /// contents) and checks it: the v2 request and the bytes its `.binary` ranges index. For the fuzz target.
    package static func readingGRPCMessage(_ message: ByteBuffer, maxElements: Int) throws(ServerError) -> (request: InferRequest, bytes: ByteBuffer) {
        let converted = try GRPCCalls.ReceivedInfer(message).converted(maxElements: maxElements)
        return (converted.request, converted.bytes)
    }
}
