import CTRFeatures
import CTRServing
import ClickwiseTestSupport
import Foundation
import Testing
@testable import CTRServer

/// The CTR request decoder and the v2 validator for schemas other than Criteo, and the checks that keep a
/// model and its features.json together.
@Suite("Serving by schema")
struct SchemaServingTests {
    static let schema = FeatureSchema(datasetID: "t", label: "clk", fields: [
        .init(name: "user_id", kind: .categorical),
        .init(name: "level", kind: .categorical, valueType: .int),
        .init(name: "price", kind: .numeric, valueType: .float),
        .init(name: "count", kind: .numeric, valueType: .int),
        .init(name: "clicks", kind: .sequence, sequence: .init(splitter: "^", maxLength: 3)),
    ], inactiveColumns: ["ts"])

    private func decode(_ json: String, schema: FeatureSchema = Self.schema, ignoreUnknown: Bool = false) -> Result<DecodedInstances, RequestDecodeError> {
        var instances = DecodedInstances()
        do throws(RequestDecodeError) {
            try PredictRequestDecoder(schema: schema, maxInstances: 100, ignoreUnknownFields: ignoreUnknown)
                .decode(Array(json.utf8), into: &instances)
            return .success(instances)
        } catch {
            return .failure(error)
        }
    }

    private func message(_ json: String, ignoreUnknown: Bool = false) -> String? {
        if case .failure(let error) = decode(json, ignoreUnknown: ignoreUnknown) { return error.message }
        return nil
    }

    @Test("field names, numbers, sequences as arrays or joined strings, inactive columns and the label")
    func decodesEveryKind() throws {
        let json = #"{"instances":[{"user_id":"u1","level":3,"price":"2.5","count":7,"clicks":["a","",null,7],"ts":"2017","clk":1},"#
            + #"{"price":1e2,"clicks":"x^y"},{"user_id":null,"clicks":null,"count":"4"}]}"#
        let instances = try decode(json).get()
        #expect(instances.count == 3)
        #expect(instances.categoricalString(row: 0, field: 0) == "u1")
        #expect(instances.categoricalString(row: 0, field: 1) == "3")
        #expect(instances.dense(row: 0, field: 0) == 2.5)
        #expect(instances.dense(row: 0, field: 1) == 7)
        #expect(instances.sequenceStrings(row: 0, field: 0) == ["a", "", "", "7"])
        #expect(instances.dense(row: 1, field: 0) == 100)
        #expect(instances.sequenceStrings(row: 1, field: 0) == ["x^y"])
        #expect(instances.categoricalString(row: 2, field: 0) == nil)
        #expect(instances.sequenceStrings(row: 2, field: 0) == nil)
        #expect(instances.dense(row: 2, field: 1) == 4)
    }

    @Test(arguments: [
        (#"{"instances":[{"nope":1}]}"#, #"instances[0]: unknown feature "nope""#),
        (#"{"instances":[{"price":1,"price":2}]}"#, #"instances[0]: duplicate feature "price""#),
        (#"{"instances":[{"count":2.5}]}"#, "instances[0].count: expected an integer or null, found 2.5"),
        (#"{"instances":[{"price":"abc"}]}"#, #"instances[0].price: expected a number or null, found the string "abc""#),
        (#"{"instances":[{"price":1e400}]}"#, "instances[0].price: expected a number or null, found 1e400"),
        (#"{"instances":[{"clicks":[["a"]]}]}"#, "instances[0].clicks: expected tokens that are strings, integers or null, found an array"),
        (#"{"instances":[{"clicks":{"a":1}}]}"#, "instances[0].clicks: expected an array of tokens, a joined string or null, found an object"),
    ])
    func errorsNameTheField(json: String, expected: String) {
        #expect(message(json) == expected)
    }

    @Test("--ignore-unknown-fields skips any value under an unknown key")
    func ignoresUnknownFields() throws {
        let json = #"{"instances":[{"nope":{"deep":[1,2,{"x":null}]},"user_id":"u"}]}"#
        #expect(message(json) != nil)
        let instances = try decode(json, ignoreUnknown: true).get()
        #expect(instances.categoricalString(row: 0, field: 0) == "u")
    }

    @Test("150 fields: every one decodes, duplicates are caught past the 64th")
    func wideSchemas() throws {
        let fields = (0..<150).map { FeatureSchema.Field(name: "f\($0)", kind: .categorical) }
        let schema = FeatureSchema(datasetID: "w", label: "y", fields: fields)
        let row = (0..<150).map { #""f\#($0)":"v\#($0)""# }.joined(separator: ",")
        let instances = try decode(#"{"instances":[{\#(row)},{\#(row)}]}"#, schema: schema).get()
        #expect(instances.count == 2)
        for field in [0, 63, 64, 149] { #expect(instances.categoricalString(row: 1, field: field) == "v\(field)") }
        if case .failure(let error) = decode(#"{"instances":[{"f140":"a","f140":"b"}]}"#, schema: schema) {
            #expect(error.message.contains("duplicate feature \"f140\""))
        } else {
            Issue.record("a duplicate key past the 64th field was accepted")
        }
    }

    @Test("encoding decoded rows fills ids, numbers and padded sequences as the encoder does")
    func encodesIntoAJob() throws {
        var builder = FeatureMapBuilder(schema: Self.schema, minCount: 1)
        builder.addCategorical(field: 0, string: "u1")
        builder.addSequence(field: 0, string: "a^b")
        builder.finishRow()
        let map = builder.build()
        let encoder = FeatureEncoder(map: map)
        let instances = try decode(#"{"instances":[{"user_id":"u1","price":2,"clicks":["b","zz"]},{"clicks":"a^b^a^b"}]}"#).get()
        let stage = FeatureEncodingStage(map: map, encoder: encoder)
        let job = stage.makeJob(rows: 2) { _ in }
        stage.encode(into: job) { rows in InferenceCore.encode(instances, with: encoder, into: rows) }
        #expect(job.inputs.map(\.shape) == [[2, 2], [2, 2], [2, 3]])
        let ids = job.inputs[0].elements(Int64.self), dense = job.inputs[1].elements(Float.self)
        let sequences = job.inputs[2].elements(Int64.self)
        let offsets = map.fieldOffsets.map(Int64.init)
        #expect(ids[0] == encoder.categoricalID(field: 0, string: "u1"))
        #expect(ids[2] == offsets[0] + 1)  // missing user_id
        #expect(dense[0] == 2 && dense[2] == 0)  // missing price: FuxiCTR's fill 0
        var expected = [Int64](repeating: 0, count: 3)
        encoder.encodeSequence(field: 0, utf8: nil, into: &expected)
        Array("b^zz".utf8).withUnsafeBytes { encoder.encodeSequence(field: 0, utf8: $0, into: &expected) }
        #expect(Array(sequences[0..<3]) == expected)
        Array("a^b^a^b".utf8).withUnsafeBytes { encoder.encodeSequence(field: 0, utf8: $0, into: &expected) }
        #expect(Array(sequences[3..<6]) == expected)
    }

    @Test("v2 limits count rows, not elements across inputs; wrong widths name the input")
    func v2LimitsAreInRows() throws {
        let map = TestServer.featureMap
        let encoding = FeatureEncodingStage(map: map, encoder: FeatureEncoder(map: map))
        let inputs = map.signature.inputs.map { TensorDescription(name: $0.name, elementType: $0.elementType == .int64 ? .int64 : .fp32, shape: $0.shape.map(Int64.init)) }
        let validator = TensorInputValidator(model: "tiny", inputs: inputs, batchable: true, maxRows: 10, encoding: encoding)
        func request(rows: Int, width: Int = 26) -> InferRequest {
            InferRequest(inputs: [
                InferInputTensor(name: "sparse_ids", datatype: .int64, shape: [Int64(rows), Int64(width)], parameters: [:],
                                 data: .int64(Array(repeating: 0, count: rows * width))),
                InferInputTensor(name: "dense", datatype: .fp32, shape: [Int64(rows), 13], parameters: [:],
                                 data: .fp32(Array(repeating: 0, count: rows * 13))),
            ])
        }
        #expect(try validator.check(request(rows: 7)).get().rows == 7)
        #expect(try validator.check(request(rows: 10)).get().rows == 10)
        if case .failure(let error) = validator.check(request(rows: 11)) {
            #expect(error.kind == .limitExceeded && error.message == "too many rows: 11 > 10")
        } else {
            Issue.record("11 rows passed a 10-row limit")
        }
        if case .failure(let error) = validator.check(request(rows: 2, width: 25)) {
            #expect(error.message.contains("sparse_ids") && error.message.contains("[-1,26]"))
        } else {
            Issue.record("a 25-wide sparse_ids passed")
        }
    }

    @Test("a model exported for another feature map is refused at load, naming both fingerprints")
    func mismatchedFingerprintIsRefused() throws {
        let repository = try TestServer.makeRepository()
        let bundle = repository + "/tiny/1"
        try FileManager.default.removeItem(atPath: bundle + "/model.onnx")
        // The shipped DeepFM records its own feature map's fingerprint; the test bundle's features.json differs.
        try FileManager.default.copyItem(atPath: ServeProcess.packageRoot + "/models/deepfm/1/model.onnx", toPath: bundle + "/model.onnx")
        var configuration = ServerConfiguration(modelPath: repository)
        configuration.port = 0
        do {
            _ = try InferenceCore.build(configuration)
            Issue.record("a mismatched bundle loaded")
        } catch {
            #expect(error.message.contains("do not belong together"))
            #expect(error.message.contains(TestServer.featureMap.fingerprint))
            #expect(error.message.contains("24914ce5bb276b82d7d37285165ab4f08c53dc14eca2ca03533fa9b0e29646d1"))
        }
    }
}
