import Foundation
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

    @Test("model and server metadata")
    func metadata() throws {
        var out: [UInt8] = []
        ModelMetadata(
            name: "deepfm", versions: ["1", "2"],
            inputs: [TensorMetadata(name: "dense", datatype: .fp32, shape: [-1, 13]), TensorMetadata(name: "sparse", datatype: .int64, shape: [-1, 26])],
            outputs: [TensorMetadata(name: "probability", datatype: .fp32, shape: [-1, 1])]
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
