import Foundation
import Testing

@testable import CTRServer

/// Decodes `body` and returns the request or the error message.
private func decode(_ body: [UInt8], headerLength: Int? = nil, maxElements: Int = 1 << 24) -> Result<InferRequest, RequestDecodeError> {
    do throws(RequestDecodeError) {
        return .success(try InferRequestDecoder(maxElements: maxElements).decode(body, headerLength: headerLength))
    } catch {
        return .failure(error)
    }
}

/// A tritonclient-style binary body: compact JSON header, then the tensors' raw bytes.
private func binaryBody(_ json: String, _ tails: [[UInt8]]) -> (body: [UInt8], headerLength: Int) {
    let header = Array(json.utf8)
    return (header + tails.flatMap { $0 }, header.count)
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/v2")

@Suite("InferRequestDecoder")
struct InferRequestDecoderTests {
    @Test("decodes the real tritonclient's bodies", arguments: ["binary_default", "json_tensors", "mixed"])
    func tritonclientFixtures(_ name: String) throws {
        let body = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("\(name).body")))
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("\(name).json"))) as! [String: Any]
        let headerLength = meta["header_length"] as? Int
        let request = try decode(body, headerLength: headerLength).get()
        #expect(request.id == meta["id"] as? String)
        #expect(request.binaryDataOutput == meta["binary_data_output"] as! Bool)
        if let outputs = meta["outputs"] as? [[String: Any]] {
            #expect(request.outputs == outputs.map { InferRequestedOutput(name: $0["name"] as! String, binaryData: $0["binary_data"] as? Bool) })
        } else {
            #expect(request.outputs == nil)
        }
        let inputs = meta["inputs"] as! [[String: Any]]
        #expect(request.inputs.count == inputs.count)
        for (input, expected) in zip(request.inputs, inputs) {
            #expect(input.name == expected["name"] as! String)
            #expect(input.datatype.rawValue == expected["datatype"] as! String)
            #expect(input.shape == (expected["shape"] as! [Int]).map(Int64.init))
            var data = input.data
            if case .binary(let range) = data {
                #expect(expected["binary"] as! Bool)
                data = try #require(body.withUnsafeBytes { InferTensorData.decodeBinary(UnsafeRawBufferPointer(rebasing: $0[range]), as: input.datatype) })
            } else {
                #expect(!(expected["binary"] as! Bool))
            }
            let values = expected["values"] as! [Any]
            switch data {
            case .fp32(let v): #expect(v.map { Int($0.bitPattern) } == values as! [Int])
            case .fp64(let v): #expect(v.map { UInt64($0.bitPattern) } == (values as! [NSNumber]).map(\.uint64Value))
            case .int64(let v): #expect(v.map(Int.init) == values as! [Int])
            case .int32(let v): #expect(v.map(Int.init) == values as! [Int])
            case .bool(let v): #expect(v == values as! [Bool])
            case .bytes(let v): #expect(v.map { String(decoding: $0, as: UTF8.self) } == values as! [String])
            default: Issue.record("unexpected data \(data) for \(input.name)")
            }
        }
    }

    @Test("a hand-built binary request, byte for byte as tritonclient sends it")
    func handBuiltBinary() throws {
        let json = #"{"inputs":[{"name":"dense","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},"#
            + #"{"name":"sparse","shape":[1,3],"datatype":"INT64","parameters":{"binary_data_size":24}}],"#
            + #""parameters":{"binary_data_output":true}}"#
        let (body, headerLength) = binaryBody(json, [littleEndianBytes([Float(0.5).bitPattern, Float(-2).bitPattern]), littleEndianBytes([Int64(7), -1, 1 << 40])])
        let request = try decode(body, headerLength: headerLength).get()
        #expect(request.binaryDataOutput)
        #expect(request.outputs == nil)
        #expect(request.inputs.map(\.name) == ["dense", "sparse"])
        #expect(request.inputs[0].data == .binary(headerLength..<(headerLength + 8)))
        #expect(request.inputs[1].data == .binary((headerLength + 8)..<(headerLength + 32)))
        let sparse = body.withUnsafeBytes { InferTensorData.decodeBinary(UnsafeRawBufferPointer(rebasing: $0[(headerLength + 8)...]), as: .int64) }
        #expect(sparse == .int64([7, -1, 1 << 40]))
        #expect(try request.selectOutputs(modelOutputs: ["probability"]).map(\.binary) == [true])
    }

    @Test("JSON data: nested row-major arrays, data before datatype, every integer type's range")
    func jsonData() throws {
        let json = #"{"id":"r1","inputs":[{"data":[[1,2,3],[4,5,6]],"shape":[2,3],"name":"a","datatype":"INT64"},"#
            + #"{"name":"b","datatype":"FP32","shape":[3],"data":[0.1,1,-2.5e-3]},"#
            + #"{"name":"c","datatype":"UINT64","shape":[2],"data":[18446744073709551615,0]},"#
            + #"{"name":"d","datatype":"INT8","shape":[2],"data":[-128,127]},"#
            + #"{"name":"e","datatype":"BYTES","shape":[2],"data":["x\n","é"]},"#
            + #"{"name":"f","datatype":"BOOL","shape":[2,1],"data":[[true],[false]]},"#
            + #"{"name":"g","datatype":"UINT8","shape":[0],"data":[]}],"#
            + #""outputs":[{"name":"p","parameters":{"binary_data":false}},{"name":"q"}],"model_name":"ctr"}"#
        let request = try decode(Array(json.utf8)).get()
        #expect(request.id == "r1")
        #expect(request.input(named: "a")?.data == .int64([1, 2, 3, 4, 5, 6]))
        #expect(request.input(named: "b")?.data == .fp32([0.1, 1, -2.5e-3]))
        #expect(request.input(named: "c")?.data == .uint64([.max, 0]))
        #expect(request.input(named: "d")?.data == .int8([-128, 127]))
        #expect(request.input(named: "e")?.data == .bytes([Array("x\n".utf8), Array("é".utf8)]))
        #expect(request.input(named: "f")?.data == .bool([true, false]))
        #expect(request.input(named: "g")?.data == .uint8([]))
        let selected = try request.selectOutputs(modelOutputs: ["q", "p"])
        #expect(selected.map(\.name) == ["p", "q"])
        #expect(selected.map(\.binary) == [false, false])
    }

    @Test("unknown requested output is an error naming it")
    func unknownOutput() throws {
        let request = try decode(Array(#"{"inputs":[],"outputs":[{"name":"nope"}]}"#.utf8)).get()
        #expect(throws: RequestDecodeError(.invalidRequest, #"unknown output "nope" (the model has "probability")"#)) {
            try request.selectOutputs(modelOutputs: ["probability"])
        }
    }

    static let four = [UInt8](repeating: 0, count: 4)
    static let invalid: [(String, [[UInt8]], Bool, String)] = [
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"INT64","data":[1]}]}"#, [], false,
         #"input "x": shape [2] needs 2 elements but "data" has 1"#),
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP8","data":[1,2]}]}"#, [], false,
         #"input "x": unknown datatype "FP8" (expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES)"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","data":[300]}]}"#, [], false, #"input "x": value 300 is out of range for UINT8"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1.5]}]}"#, [], false, #"input "x": value 1.5 is not an integer, as required by INT64"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":["1"]}]}"#, [], false, #"input "x": expected INT64 elements in "data", found a string at byte 62"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP16","data":[1]}]}"#, [], false, #"input "x": FP16 data must be sent as binary data (binary tensor extension)"#),
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"INT64","data":[[1],2]}]}"#, [], false, #"input "x": "data" mixes arrays and scalars at one level (byte 66)"#),
        (#"{"inputs":[{"name":"x","shape":[-1],"datatype":"INT64","data":[]}]}"#, [], false, #"input "x": "shape" must hold non-negative integers"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64"}]}"#, [], false, #"input "x" has neither "data" nor a "binary_data_size" parameter"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1],"parameters":{"binary_data_size":8}}]}"#, [[UInt8](repeating: 0, count: 8)], true,
         #"input "x" has both "data" and a "binary_data_size" parameter"#),
        (#"{"inputs":[{"shape":[1],"datatype":"INT64","data":[1]}]}"#, [], false, #"inputs[0] has no "name""#),
        (#"{"inputs":[{"name":"x","datatype":"INT64","data":[1]}]}"#, [], false, #"input "x" has no "shape""#),
        (#"{"inputs":[{"name":"x","shape":[1],"data":[1]}]}"#, [], false, #"input "x" has no "datatype""#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1],"name":"y"}]}"#, [], false, #"input "x": duplicate key "name""#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1]},{"name":"x","shape":[1],"datatype":"INT64","data":[1]}]}"#, [], false, #"duplicate input "x""#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","data":[1],"extra":1}]}"#, [], false, #"input "x": unknown key "extra" (expected name, shape, datatype, parameters, data)"#),
        (#"{"inputs":[],"inputz":[]}"#, [], false, #"unknown key "inputz" in infer request (expected id, parameters, inputs, outputs)"#),
        (#"{"id":"a"}"#, [], false, #"infer request has no "inputs""#),
        (#"{"id":1,"inputs":[]}"#, [], false, #""id" must be a string, found a number"#),
        (#"{"inputs":[],"inputs":[]}"#, [], false, #"duplicate key "inputs" in infer request"#),
        (#"{"inputs":[],"parameters":{"binary_data_output":1}}"#, [], false, #"request parameter "binary_data_output" must be a bool"#),
        (#"{"inputs":[],"parameters":{"a":[1]}}"#, [], false, #"request: parameter "a" must be a bool, number or string, found an array"#),
        (#"{"inputs":[],"outputs":[{"name":"p","parameters":{"binary_data":"yes"}}]}"#, [], false, #"outputs[0]: parameter "binary_data" must be a bool"#),
        (#"{"inputs":[],"outputs":[{"name":"p","parameters":{"classification":3}}]}"#, [], false, #"outputs[0]: parameter "classification" is not supported"#),
        (#"{"inputs":[],"outputs":[{"name":"p"},{"name":"p"}]}"#, [], false, #"duplicate output "p""#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"INT64","parameters":{"shared_memory_region":"r"}}]}"#, [], false, #"input "x": shared memory ("shared_memory_region") is not supported"#),
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, [four], true,
         #"input "x": binary_data_size 4 does not match shape [2] of FP32 (8 bytes)"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, [four, four], true,
         "binary data sizes add up to 4 bytes but 8 bytes follow the JSON header"),
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#, [four], true,
         #"input "x": binary_data_size 8 exceeds the 4 bytes left in the body"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, [], false,
         #"input "x" has "binary_data_size" but the request has no Inference-Header-Content-Length header"#),
        (#"{"inputs":[{"name":"x","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":5}}]}"#, [[1, 0, 0, 0, 65]], true,
         #"input "x": BYTES binary data is not 2 length-prefixed elements"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":-4}}]}"#, [], true,
         #"input "x": "binary_data_size" must be a non-negative integer"#),
        (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},]}"#, [], false, "trailing comma before ']' at byte 65"),
    ]

    @Test("invalid requests are errors naming the input", arguments: invalid)
    func invalidRequests(_ json: String, _ tails: [[UInt8]], _ withHeader: Bool, _ expected: String) {
        let (body, headerLength) = binaryBody(json, tails)
        let result = decode(body, headerLength: withHeader ? headerLength : nil)
        guard case .failure(let error) = result else {
            Issue.record("accepted: \(json)")
            return
        }
        #expect(error.message == expected)
    }

    @Test("header length and element limits")
    func limits() {
        let json = Array(#"{"inputs":[]}"#.utf8)
        if case .failure(let error) = decode(json, headerLength: 100) {
            #expect(error.message == "Inference-Header-Content-Length 100 is not within the body length 13")
        } else { Issue.record("accepted") }
        if case .failure(let error) = decode(json, headerLength: 5) {
            #expect(error.message == "unterminated string starting at byte 1")
        } else { Issue.record("accepted") }
        let big = Array(#"{"inputs":[{"name":"x","shape":[1000,1000],"datatype":"FP32","data":[]}]}"#.utf8)
        if case .failure(let error) = decode(big, maxElements: 1000) {
            #expect(error.kind == .limitExceeded)
            #expect(error.message == #"input "x": shape [1000,1000] has more than 1000 elements"#)
        } else { Issue.record("accepted") }
    }
}
