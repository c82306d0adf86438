import CTRGRPCProtocol
import Foundation
import NIOCore
import SwiftProtobuf
import Testing
@testable import CTRServer

/// The hand-written ModelInferRequest reader and ModelInferResponse writer against swift-protobuf's own
/// decoding and encoding of the same messages.
@Suite("ModelInfer read in place and written directly (against swift-protobuf)")
struct ModelInferWireTests {
    static let maxElements = 1 << 20

    /// A request with every field the reader knows: ids, every parameter kind, two inputs, outputs, raw contents.
    static func fullRequest() -> Inference_ModelInferRequest {
        var message = Inference_ModelInferRequest()
        message.modelName = "deepfm"
        message.modelVersion = "1"
        message.id = "ranking-ü-7"
        func parameter(_ choice: Inference_InferParameter.OneOf_ParameterChoice) -> Inference_InferParameter {
            var value = Inference_InferParameter()
            value.parameterChoice = choice
            return value
        }
        message.parameters = [
            "timeout": parameter(.int64Param(5_000)), "priority": parameter(.uint64Param(2)), "huge": parameter(.uint64Param(.max)),
            "flag": parameter(.boolParam(true)), "ratio": parameter(.doubleParam(-0.25)), "note": parameter(.stringParam("é")),
            "negative": parameter(.int64Param(-3)), "unset": Inference_InferParameter(),
        ]
        var ids = Inference_ModelInferRequest.InferInputTensor()
        ids.name = "sparse_ids"
        ids.datatype = "INT64"
        ids.shape = [2, 3]
        ids.parameters = ["binary_data_size": parameter(.int64Param(48))]
        var dense = Inference_ModelInferRequest.InferInputTensor()
        dense.name = "dense"
        dense.datatype = "FP32"
        dense.shape = [2, 2]
        message.inputs = [ids, dense]
        var output = Inference_ModelInferRequest.InferRequestedOutputTensor()
        output.name = "probability"
        output.parameters = ["classification": parameter(.int64Param(0))]
        message.outputs = [output]
        message.rawInputContents = [Data((0..<48).map { UInt8($0) }), Data((0..<16).map { UInt8(200 + $0) })]
        return message
    }

    /// `converted`'s request with each raw input's range replaced by its bytes, so requests over different buffers compare.
    static func resolved(_ converted: GRPCInferRequest) -> InferRequest {
        var request = converted.request
        converted.bytes.withUnsafeReadableBytes { bytes in
            for index in request.inputs.indices {
                if case .binary(let range) = request.inputs[index].data {
                    request.inputs[index].data = .uint8(Array(bytes[range]))
                }
            }
        }
        return request
    }

    /// Both readings of `bytes`, converted: ours (nil when it handed typed contents to swift-protobuf) and swift-protobuf's.
    static func readings(_ bytes: [UInt8]) -> (ours: Result<InferRequest, ServerError>?, reference: InferRequest?) {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let ours: Result<InferRequest, ServerError>?
        do throws(ServerError) {
            let received = try GRPCCalls.ReceivedInfer(buffer)
            if case .decoded = received {
                ours = nil
            } else {
                ours = .success(resolved(try received.converted(maxElements: maxElements)))
            }
        } catch {
            ours = .failure(error)
        }
        let reference = (try? Inference_ModelInferRequest(serializedBytes: bytes))
            .flatMap { try? GRPCInferRequest($0, maxElements: maxElements) }.map(resolved)
        return (ours, reference)
    }

    @Test("a request read in place gives what swift-protobuf's decoding gives")
    func sameAsSwiftProtobuf() throws {
        let bytes: [UInt8] = try Self.fullRequest().serializedBytes()
        let (ours, reference) = Self.readings(bytes)
        let request = try #require(try ours?.get())
        #expect(request == reference)
        #expect(request.parameters["huge"] == .double(Double(UInt64.max)) && request.parameters["unset"] == nil)
        #expect(request.inputs.map(\.shape) == [[2, 3], [2, 2]] && request.outputs?.first?.parameters["classification"] == .int(0))
    }

    @Test("unpacked shapes, repeated scalars (last wins) and unknown fields of every wire type read as swift-protobuf reads them")
    func wireVariants() throws {
        func varint(_ value: UInt64) -> [UInt8] {
            var value = value, out: [UInt8] = []
            while value >= 0x80 { out.append(UInt8(truncatingIfNeeded: value) | 0x80); value >>= 7 }
            return out + [UInt8(value)]
        }
        func tag(_ number: UInt64, _ wireType: UInt64) -> [UInt8] { varint(number << 3 | wireType) }
        func delimited(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] { tag(number, 2) + varint(UInt64(payload.count)) + payload }
        func text(_ number: UInt64, _ value: String) -> [UInt8] { delimited(number, Array(value.utf8)) }
        let unknown = tag(99, 0) + varint(1 << 40) + tag(100, 5) + [1, 2, 3, 4] + tag(101, 1) + [UInt8](repeating: 7, count: 8)
            + delimited(102, [9, 9, 9]) + tag(536_870_911, 0) + [0]
        let input = text(1, "sparse_ids") + unknown + text(2, "INT64") + tag(3, 0) + varint(1) + delimited(3, varint(2) + varint(1))
        let bytes = text(1, "old") + unknown + text(1, "deepfm") + delimited(5, input) + text(3, "r") + delimited(7, [UInt8](repeating: 5, count: 16))
        let (ours, reference) = Self.readings(bytes)
        let request = try #require(try ours?.get())
        #expect(request == reference)
        #expect(request.inputs.first?.shape == [1, 2, 1] && request.id == "r")

        // A truncated 4-byte sequence is as long as the U+FFFD that repairs it: still refused, as swift-protobuf refuses it.
        let invalid = Self.readings(delimited(1, [0xF0, 0x9F, 0x98, 0x78]) + bytes)
        #expect(invalid.reference == nil)
        guard case .failure(let error)? = invalid.ours else { Issue.record("invalid UTF-8 accepted: \(String(describing: invalid.ours))"); return }
        #expect(error.rpcCode == .invalidArgument && error.message.contains("UTF-8"))
    }

    @Test("typed contents are handed to swift-protobuf")
    func typedContents() throws {
        var message = Self.fullRequest()
        message.rawInputContents = []
        message.inputs[0].contents.int64Contents = [1, 2, 3, 4, 5, 6]
        message.inputs[1].contents.fp32Contents = [1, 2, 3, 4]
        let (ours, reference) = Self.readings(try message.serializedBytes())
        #expect(ours == nil)
        #expect(reference?.inputs.first?.data == .int64([1, 2, 3, 4, 5, 6]))
    }

    @Test("every truncation and 3,000 seeded corruptions of a request: refused as INVALID_ARGUMENT or read as swift-protobuf reads it")
    func malformed() throws {
        let bytes: [UInt8] = try Self.fullRequest().serializedBytes()
        var agreed = 0, refused = 0
        func check(_ candidate: [UInt8]) {
            let (ours, reference) = Self.readings(candidate)
            switch ours {
            case .success(let request)?:
                #expect(request == reference, "read differently from swift-protobuf: \(candidate)")
                agreed += 1
            case .failure(let error)?:
                #expect(error.rpcCode == .invalidArgument || error.rpcCode == .resourceExhausted, "\(error)")
                refused += 1
            case nil:
                break
            }
        }
        for length in 0..<bytes.count { check(Array(bytes[0..<length])) }
        // Knuth's MMIX LCG, seeded: the same corruptions every run, so a failure can be found again.
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for _ in 0..<3_000 {
            var corrupted = bytes
            for _ in 0...next(3) { corrupted[next(corrupted.count)] = UInt8(next(256)) }
            check(corrupted)
        }
        #expect(agreed > 100 && refused > 100, "agreed \(agreed), refused \(refused)")
    }

    @Test("the response written directly is byte for byte swift-protobuf's, alone and inside ModelStreamInferResponse")
    func response() throws {
        let probabilities: [Float] = [0.25, 0.5, 0.125]
        let scores: [Int64] = [-1, 300]
        try probabilities.withUnsafeBytes { first in
            try scores.withUnsafeBytes { second in
                for id in [nil, "", "r-1"] as [String?] {
                    let result = InferResult(modelName: "deepfm", modelVersion: "12", id: id, outputs: [
                        .init(name: "probability", datatype: .fp32, shape: [3, 1], bytes: first, binary: true),
                        .init(name: "scores", datatype: .int64, shape: [2], bytes: second, binary: true),
                        .init(name: "empty", datatype: .fp32, shape: [0], bytes: UnsafeRawBufferPointer(start: nil, count: 0), binary: true),
                    ])
                    let message = GRPCCalls.response(for: result)
                    let expected = try GRPCWire.framed(message).get()
                    #expect(ModelInferWire.framedResponse(result) == expected)
                    var streamed = Inference_ModelStreamInferResponse()
                    streamed.inferResponse = message
                    #expect(ModelInferWire.framedResponse(result, streamed: true) == (try GRPCWire.framed(streamed).get()))
                }
            }
        }
    }
}
