import Foundation
import CTRServing
import Testing

@testable import CTRServer

@Suite("InferResponseEncoder and metadata")
struct InferResponseEncoderTests {
    @Test("JSON outputs parse back with Foundation")
    func jsonOutputs() throws {
        var encoder = InferResponseEncoder()
        encoder.begin(modelName: "deepfm", modelVersion: "3", id: "req\"1")
        encoder.appendOutput(name: "probability", shape: [2, 1], values: [Float(0.0312), 0.5], binary: false)
        encoder.appendOutput(name: "ids", shape: [3], values: [Int64.min, 0, .max], binary: false)
        encoder.finish()
        #expect(encoder.headerLength == nil)
        #expect(encoder.binary.isEmpty)
        #expect(String(decoding: encoder.json, as: UTF8.self) == #"{"model_name":"deepfm","model_version":"3","id":"req\"1","outputs":["#
            + #"{"name":"probability","datatype":"FP32","shape":[2,1],"data":[0.0312,0.5]},"#
            + #"{"name":"ids","datatype":"INT64","shape":[3],"data":[-9223372036854775808,0,9223372036854775807]}]}"#)
        let object = try JSONSerialization.jsonObject(with: Data(encoder.json)) as! [String: Any]
        #expect(object["id"] as? String == "req\"1")
        #expect((object["outputs"] as! [[String: Any]]).count == 2)
    }

    @Test("binary outputs: binary_data_size in JSON, raw little-endian bytes after it")
    func binaryOutputs() throws {
        var encoder = InferResponseEncoder()
        encoder.begin(modelName: "m", modelVersion: nil, id: nil)
        let values: [Float] = [0.25, 0.75, 1e-7]
        encoder.appendOutput(name: "probability", shape: [3, 1], values: values, binary: true)
        encoder.appendOutput(name: "logit", shape: [1], values: [Double(-1.5)], binary: false)
        encoder.finish()
        let headerLength = try #require(encoder.headerLength)
        let body = encoder.body()
        #expect(headerLength == encoder.json.count)
        #expect(body.count == headerLength + 12)
        let object = try JSONSerialization.jsonObject(with: Data(body[..<headerLength])) as! [String: Any]
        let outputs = object["outputs"] as! [[String: Any]]
        #expect((outputs[0]["parameters"] as! [String: Any])["binary_data_size"] as? Int == 12)
        #expect(outputs[0]["data"] == nil)
        #expect(outputs[1]["data"] as? [Double] == [-1.5])
        let decoded = body.withUnsafeBytes { InferTensorData.decodeBinary(UnsafeRawBufferPointer(rebasing: $0[headerLength...]), as: .fp32) }
        #expect(decoded == .fp32(values))
        // A reused encoder starts clean.
        encoder.begin(modelName: "m", modelVersion: nil, id: nil)
        encoder.finish()
        #expect(encoder.headerLength == nil)
        #expect(String(decoding: encoder.json, as: UTF8.self) == #"{"model_name":"m","outputs":[]}"#)
    }

    @Test("outputs given as bytes of a datatype: FP16 and BF16 as numbers in JSON, BOOL as true/false, binary verbatim")
    func byteOutputs() throws {
        var encoder = InferResponseEncoder()
        encoder.begin(modelName: "m", modelVersion: nil, id: nil)
        // FP16 1.0, -2.5, 2^-24 (smallest subnormal), 65504 (largest); BF16 1.0, -0.5.
        let halves: [UInt16] = [0x3c00, 0xc100, 0x0001, 0x7bff], bfloats: [UInt16] = [0x3f80, 0xbf00]
        halves.withUnsafeBytes { encoder.appendOutput(name: "h", datatype: .fp16, shape: [4], bytes: $0, binary: false) }
        bfloats.withUnsafeBytes { encoder.appendOutput(name: "b", datatype: .bf16, shape: [2], bytes: $0, binary: false) }
        [UInt8(1), 0].withUnsafeBytes { encoder.appendOutput(name: "flag", datatype: .bool, shape: [2], bytes: $0, binary: false) }
        [Int8(-3), 7].withUnsafeBytes { encoder.appendOutput(name: "small", datatype: .int8, shape: [2], bytes: $0, binary: true) }
        halves.withUnsafeBytes { encoder.appendOutput(name: "raw", datatype: .fp16, shape: [4], bytes: $0, binary: true) }
        encoder.finish()
        let headerLength = try #require(encoder.headerLength)
        let outputs = try #require((try JSONSerialization.jsonObject(with: Data(encoder.json)) as? [String: Any])?["outputs"] as? [[String: Any]])
        #expect(headerLength == encoder.json.count)
        #expect((outputs[0]["data"] as? [Double])?.map(Float.init) == [1, -2.5, 0x1p-24, 65504] && outputs[0]["datatype"] as? String == "FP16")
        #expect(outputs[1]["data"] as? [Double] == [1, -0.5])
        #expect(outputs[2]["data"] as? [Bool] == [true, false] && outputs[2]["datatype"] as? String == "BOOL")
        #expect((outputs[3]["parameters"] as? [String: Int])?["binary_data_size"] == 2 && outputs[3]["datatype"] as? String == "INT8")
        #expect(encoder.binary == [0xfd, 7, 0x00, 0x3c, 0x00, 0xc1, 0x01, 0x00, 0xff, 0x7b])
    }

    @Test("model and server metadata")
    func metadata() throws {
        var out: [UInt8] = []
        ModelMetadata(
            name: "deepfm", versions: ["1", "2"],
            inputs: [TensorDescription(name: "dense", elementType: .fp32, shape: [-1, 13]), TensorDescription(name: "sparse", elementType: .int64, shape: [-1, 26])],
            outputs: [TensorDescription(name: "probability", elementType: .fp32, shape: [-1, 1])]
        ).encode(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"name":"deepfm","versions":["1","2"],"platform":"onnxruntime_onnx","#
            + #""inputs":[{"name":"dense","datatype":"FP32","shape":[-1,13]},{"name":"sparse","datatype":"INT64","shape":[-1,26]}],"#
            + #""outputs":[{"name":"probability","datatype":"FP32","shape":[-1,1]}]}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(out)) is [String: Any])
        out.removeAll()
        ServerMetadata(version: "0.1.0").encode(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"name":"clickwise","version":"0.1.0","extensions":["binary_tensor_data"]}"#)
    }
}
