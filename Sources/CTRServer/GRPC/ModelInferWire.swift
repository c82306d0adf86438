import Foundation
import NIOCore
import ProtobufWire

/// ModelInferRequest read in place and ModelInferResponse written straight into the answer's buffer, for
/// our gRPC server's hot path; every other message goes through swift-protobuf.
///
/// Why hand-written (measured, perf record -g, 2026-12-06, docs/BENCHMARKS.md): through swift-protobuf a
/// single-row ModelInfer spent 5.4 % of the server's CPU decoding the request and 2.3 % encoding the answer
/// (generic map and repeated-message decoding, a size pass and an encode pass, a `Data` per tensor), and a
/// 100-row request copied its ~26 KB of raw inputs three times on the event loop (into the `Data` swift-protobuf
/// reads, into a `Data` per `raw_input_contents`, into one joined array). Here `raw_input_contents` stay in
/// the received buffer: the core reads them from there.
///
/// Field numbers are Triton's (`Protos/inference/grpc_service.proto`); the tests check both directions
/// against swift-protobuf's own encoding of the same messages.
enum ModelInferWire {
    /// A ModelInferRequest's fields; `raw` are the `raw_input_contents`, as ranges of the message's bytes.
    struct Request {
        var modelName = ""
        var modelVersion = ""
        var id = ""
        var parameters: [String: InferParameter] = [:]
        var inputs: [GRPCInferRequest.Input] = []
        var outputs: [InferRequestedOutput] = []
        var raw: [Range<Int>] = []
    }

    typealias Malformed = ProtobufReader.Failure

    /// The request in `bytes`, or nil when an input carries typed `contents` (Triton's clients never send
    /// them; swift-protobuf reads such a request). Malformed protobuf is INVALID_ARGUMENT.
    static func request(_ bytes: UnsafeRawBufferPointer) throws(ServerError) -> Request? {
        do {
            return try read(ProtobufReader(bytes, range: 0..<bytes.count))
        } catch {
            throw ServerError(.invalidArgument, "request is not a valid inference.ModelInferRequest: \(error)")
        }
    }

    private static func read(_ reader: ProtobufReader) throws(Malformed) -> Request? {
        var reader = reader
        var request = Request()
        while let field = try reader.nextField() {
            let (number, wireType) = field
            switch number {
            case 1: request.modelName = try string(&reader, wireType)
            case 2: request.modelVersion = try string(&reader, wireType)
            case 3: request.id = try string(&reader, wireType)
            case 4: try parameterEntry(reader.nested(message(&reader, wireType)), into: &request.parameters)
            case 5:
                guard let input = try input(reader.nested(message(&reader, wireType))) else { return nil }
                request.inputs.append(input)
            case 6: request.outputs.append(try output(reader.nested(message(&reader, wireType))))
            case 7: request.raw.append(try message(&reader, wireType))
            default: try reader.skip(wireType)
            }
        }
        return request
    }

    /// One `InferInputTensor`, or nil when it has typed `contents`.
    private static func input(_ reader: ProtobufReader) throws(Malformed) -> GRPCInferRequest.Input? {
        var reader = reader
        var input = GRPCInferRequest.Input(name: "", datatype: "", shape: [], parameters: [:], contents: nil)
        while let field = try reader.nextField() {
            let (number, wireType) = field
            switch number {
            case 1: input.name = try string(&reader, wireType)
            case 2: input.datatype = try string(&reader, wireType)
            case 3:
                // Repeated int64: packed (proto3's default) or one varint per element; both are valid.
                if wireType == .lengthDelimited {
                    var packed = reader.nested(try reader.lengthDelimited())
                    while !packed.isAtEnd { input.shape.append(Int64(bitPattern: try packed.varint())) }
                } else {
                    guard wireType == .varint else { throw reader.failure("InferInputTensor.shape has wire type \(wireType.rawValue)") }
                    input.shape.append(Int64(bitPattern: try reader.varint()))
                }
            case 4: try parameterEntry(reader.nested(message(&reader, wireType)), into: &input.parameters)
            case 5: return nil
            default: try reader.skip(wireType)
            }
        }
        return input
    }

    /// One `InferRequestedOutputTensor`.
    private static func output(_ reader: ProtobufReader) throws(Malformed) -> InferRequestedOutput {
        var reader = reader
        var name = ""
        var parameters: [String: InferParameter] = [:]
        while let field = try reader.nextField() {
            let (number, wireType) = field
            switch number {
            case 1: name = try string(&reader, wireType)
            case 2: try parameterEntry(reader.nested(message(&reader, wireType)), into: &parameters)
            default: try reader.skip(wireType)
            }
        }
        return InferRequestedOutput(name: name, parameters: parameters)
    }

    /// One entry of a `map<string, InferParameter>`: the last entry for a key wins, and one whose value sets
    /// no field removes the key (what swift-protobuf's map and ``GRPCInferRequest/parameters(_:)`` give).
    private static func parameterEntry(_ reader: ProtobufReader, into map: inout [String: InferParameter]) throws(Malformed) {
        var reader = reader
        var key = ""
        var value: InferParameter?
        while let field = try reader.nextField() {
            let (number, wireType) = field
            switch number {
            case 1: key = try string(&reader, wireType)
            case 2: value = try parameter(reader.nested(message(&reader, wireType)), merging: value)
            default: try reader.skip(wireType)
            }
        }
        map[key] = value
    }

    /// An `InferParameter` oneof (the last field set wins; a repeated message merges into the earlier one).
    private static func parameter(_ reader: ProtobufReader, merging earlier: InferParameter?) throws(Malformed) -> InferParameter? {
        var reader = reader
        var value = earlier
        while let field = try reader.nextField() {
            let (number, wireType) = field
            switch (number, wireType) {
            case (1, .varint): value = .bool(try reader.varint() != 0)
            case (2, .varint): value = .int(Int64(bitPattern: try reader.varint()))
            case (3, _): value = .string(try string(&reader, wireType))
            case (4, .fixed64): value = .double(Double(bitPattern: try reader.fixed64()))
            case (5, .varint):
                let unsigned = try reader.varint()
                value = Int64(exactly: unsigned).map(InferParameter.int) ?? .double(Double(unsigned))
            case (1...5, _): throw reader.failure("InferParameter field \(number) has wire type \(wireType.rawValue)")
            default: try reader.skip(wireType)
            }
        }
        return value
    }

    private static func string(_ reader: inout ProtobufReader, _ wireType: ProtobufReader.WireType) throws(Malformed) -> String {
        guard wireType == .lengthDelimited else { throw reader.failure("a string field with wire type \(wireType.rawValue)") }
        return try reader.string()
    }

    private static func message(_ reader: inout ProtobufReader, _ wireType: ProtobufReader.WireType) throws(Malformed) -> Range<Int> {
        guard wireType == .lengthDelimited else { throw reader.failure("a message or bytes field with wire type \(wireType.rawValue)") }
        return try reader.lengthDelimited()
    }

    // MARK: - Response

    /// `result` as a length-prefixed ModelInferResponse (raw outputs), or, with `streamed`, as a
    /// ModelStreamInferResponse carrying it in `infer_response`; ready to send as DATA.
    static func framedResponse(_ result: InferResult, streamed: Bool = false) -> ByteBuffer {
        let tensors = result.outputs.map { output in
            let shapeBytes = output.shape.reduce(0) { $0 + varintSize(UInt64(bitPattern: Int64($1))) }
            let tensorBytes = stringFieldSize(output.name) + stringFieldSize(output.datatype.rawValue) + (shapeBytes > 0 ? fieldSize(shapeBytes) : 0)
            return (output, shapeBytes: shapeBytes, tensorBytes: tensorBytes)
        }
        var size = stringFieldSize(result.modelName) + stringFieldSize(result.modelVersion) + stringFieldSize(result.id ?? "")
        for (output, _, tensorBytes) in tensors {
            size += fieldSize(tensorBytes) + fieldSize(output.bytes.count)
        }
        let total = streamed ? fieldSize(size) : size
        var buffer = ByteBufferAllocator().buffer(capacity: GRPCWire.prefixLength + total)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(total))
        if streamed { writeTag(2, .lengthDelimited, size, into: &buffer) }
        writeString(1, result.modelName, into: &buffer)
        writeString(2, result.modelVersion, into: &buffer)
        writeString(3, result.id ?? "", into: &buffer)
        for (output, shapeBytes, tensorBytes) in tensors {
            writeTag(5, .lengthDelimited, tensorBytes, into: &buffer)
            writeString(1, output.name, into: &buffer)
            writeString(2, output.datatype.rawValue, into: &buffer)
            if shapeBytes > 0 {
                writeTag(3, .lengthDelimited, shapeBytes, into: &buffer)
                for dimension in output.shape { writeVarint(UInt64(bitPattern: Int64(dimension)), into: &buffer) }
            }
        }
        for (output, _, _) in tensors {
            writeTag(6, .lengthDelimited, output.bytes.count, into: &buffer)
            buffer.writeBytes(output.bytes)
        }
        return buffer
    }

    /// A length-delimited field's bytes: its one-byte tag (field numbers here are below 16), its length, its value.
    private static func fieldSize(_ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

    /// A proto3 string field's bytes; an empty string is not written.
    private static func stringFieldSize(_ text: String) -> Int { text.isEmpty ? 0 : fieldSize(text.utf8.count) }

    private static func varintSize(_ value: UInt64) -> Int { max(1, (64 - value.leadingZeroBitCount + 6) / 7) }

    private static func writeTag(_ number: UInt8, _ wireType: ProtobufReader.WireType, _ length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(number << 3 | UInt8(wireType.rawValue))
        writeVarint(UInt64(length), into: &buffer)
    }

    private static func writeString(_ number: UInt8, _ text: String, into buffer: inout ByteBuffer) {
        guard !text.isEmpty else { return }
        writeTag(number, .lengthDelimited, text.utf8.count, into: &buffer)
        buffer.writeString(text)
    }

    private static func writeVarint(_ value: UInt64, into buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }
}
