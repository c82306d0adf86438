import Foundation
import CTRFeatures
import Testing

@testable import CTRServer

/// Decodes `json` and returns the instances or the error message.
private func decode(_ json: String, maxInstances: Int = 1000) -> Result<DecodedInstances, RequestDecodeError> {
    var instances = DecodedInstances()
    do throws(RequestDecodeError) {
        try PredictRequestDecoder(maxInstances: maxInstances).decode(Array(json.utf8), into: &instances)
        return .success(instances)
    } catch {
        return .failure(error)
    }
}

private func message(_ json: String, maxInstances: Int = 1000) -> String? {
    if case .failure(let error) = decode(json, maxInstances: maxInstances) { return error.message }
    return nil
}

@Suite("PredictRequestDecoder")
struct PredictRequestDecoderTests {
    @Test("a realistic row fills all 39 slots")
    func realisticRow() throws {
        let body = CriteoBodies.body(rows: 1)
        #expect(body.count > 500 && body.count < 700)
        var instances = DecodedInstances()
        try PredictRequestDecoder(maxInstances: 10).decode(body, into: &instances)
        #expect(instances.count == 1)
        #expect(instances.dense(row: 0, field: 0) == 1)
        #expect(instances.dense(row: 0, field: 4) == 1382)
        #expect(instances.dense(row: 0, field: 11) == -1)
        #expect(instances.categoricalString(row: 0, field: 0) == "68fd1e64")
        #expect(instances.categoricalString(row: 0, field: 9) == "a8cd5504")
        #expect(instances.categoricalString(row: 0, field: 25) == "d7c4a8f5")
        // The decoded rows agree with Foundation's reading of the same body.
        let object = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        let row = (object["instances"] as! [[String: Any]])[0]
        for field in 0..<13 {
            #expect(instances.dense(row: 0, field: field) == (row["I\(field + 1)"] as! NSNumber).doubleValue)
        }
        for field in 0..<26 {
            #expect(instances.categoricalString(row: 0, field: field) == row["C\(field + 1)"] as? String)
        }
    }

    @Test("many rows keep their order, and a reused value is refilled")
    func manyRowsAndReuse() throws {
        var instances = DecodedInstances()
        let decoder = PredictRequestDecoder(maxInstances: 1000)
        try decoder.decode(CriteoBodies.body(rows: 100), into: &instances)
        #expect(instances.count == 100)
        for row in 0..<100 { #expect(instances.dense(row: row, field: 0) == Double(1 + row % 7)) }
        try decoder.decode(Array("{\"instances\":[{\"C2\":\"x\"}]}".utf8), into: &instances)
        #expect(instances.count == 1)
        #expect(instances.categoricalString(row: 0, field: 1) == "x")
        #expect(instances.categoricalString(row: 0, field: 0) == nil)
        #expect(instances.dense(row: 0, field: 0) == nil)
    }

    @Test("missing values: absent keys, null, and empty strings")
    func missing() throws {
        let instances = try decode(#"{"instances":[{"I1":null,"I2":"","C1":null,"C2":""},{}]}"#).get()
        #expect(instances.count == 2)
        for row in 0..<2 {
            for field in 0..<13 { #expect(instances.dense(row: row, field: field) == nil) }
            for field in 0..<26 { #expect(instances.categoricalString(row: row, field: field) == nil) }
        }
    }

    @Test("accepted value forms")
    func acceptedForms() throws {
        let json = #"{"instances":[{"I1":5.0,"I2":"-3","I3":1e3,"I4":-0,"I5":9007199254740993,"#
            + #""C1":123,"C2":"a\"b\\c","C3":"\u00e9\ud83d\ude00","C4":"é","\u0049\u0036":7,"C5":-0}]}"#
        let instances = try decode(json).get()
        #expect(instances.dense(row: 0, field: 0) == 5)
        #expect(instances.dense(row: 0, field: 1) == -3)
        #expect(instances.dense(row: 0, field: 2) == 1000)
        #expect(instances.dense(row: 0, field: 3) == 0)
        #expect(instances.dense(row: 0, field: 4) == 9_007_199_254_740_992)  // nearest Double
        #expect(instances.dense(row: 0, field: 5) == 7)  // escaped key "I6"
        #expect(instances.categoricalString(row: 0, field: 0) == "123")
        #expect(instances.categoricalString(row: 0, field: 1) == "a\"b\\c")
        #expect(instances.categoricalString(row: 0, field: 2) == "é😀")
        #expect(instances.categoricalString(row: 0, field: 3) == "é")
        #expect(instances.categoricalString(row: 0, field: 4) == "-0")
    }

    @Test("an empty instances array decodes to zero rows")
    func empty() throws {
        #expect(try decode(#"{"instances":[]}"#).get().count == 0)
        #expect(try decode(#" { "instances" : [ ] } "#).get().count == 0)
    }

    static let invalid: [(String, String)] = [
        (#"{"instances":[{},{},{},{"C27":"x"}]}"#, #"instances[3]: unknown feature "C27""#),
        (#"{"instances":[{"I0":1}]}"#, #"instances[0]: unknown feature "I0""#),
        (#"{"instances":[{"I14":1}]}"#, #"instances[0]: unknown feature "I14""#),
        (#"{"instances":[{"C01":"a"}]}"#, #"instances[0]: unknown feature "C01""#),
        (#"{"instances":[{"i1":1}]}"#, #"instances[0]: unknown feature "i1""#),
        (#"{"instances":[{"I1":1,"I1":2}]}"#, #"instances[0]: duplicate feature "I1""#),
        (#"{"instances":[{"C26":"a","\u0043\u0032\u0036":"b"}]}"#, #"instances[0]: duplicate feature "C26""#),
        (#"{"instances":[{"I1":"abc"}]}"#, #"instances[0].I1: expected an integer or null, found the string "abc""#),
        (#"{"instances":[{"I1":"05"}]}"#, #"instances[0].I1: expected an integer or null, found the string "05""#),
        (#"{"instances":[{"I1":" 5"}]}"#, #"instances[0].I1: expected an integer or null, found the string " 5""#),
        (#"{"instances":[{"I1":2.5}]}"#, #"instances[0].I1: expected an integer or null, found 2.5"#),
        (#"{"instances":[{},{"I13":true}]}"#, #"instances[1].I13: expected an integer or null, found true"#),
        (#"{"instances":[{"I2":[1]}]}"#, #"instances[0].I2: expected an integer or null, found an array"#),
        (#"{"instances":[{"C1":true}]}"#, #"instances[0].C1: expected a string, an integer or null, found true"#),
        (#"{"instances":[{"C1":{}}]}"#, #"instances[0].C1: expected a string, an integer or null, found an object"#),
        (#"{"instances":[{"C1":1.5}]}"#, #"instances[0].C1: expected a string, an integer or null, found 1.5"#),
        (#"{"instances":[{"C1":1e3}]}"#, #"instances[0].C1: expected a string, an integer or null, found 1e3"#),
        (#"{"inputs":[]}"#, #"unknown key "inputs" (the body must be {"instances": [...]})"#),
        (#"{"instances":[],"extra":1}"#, #"unknown key "extra" (the body must be {"instances": [...]})"#),
        (#"{"instances":[],"instances":[]}"#, #"duplicate key "instances""#),
        (#"{}"#, #"missing key "instances""#),
        (#"[]"#, #"request body must be a JSON object {"instances": [...]}, found an array"#),
        (#""#, #"request body must be a JSON object {"instances": [...]}, found end of input"#),
        (#"{"instances":{}}"#, #""instances" must be an array of objects, found an object"#),
        (#"{"instances":[1]}"#, #"instances[0]: expected an object of features, found a number"#),
        (#"{"instances":[{"I1":1,}]}"#, #"expected '"' to begin an object key at byte 22, found '}'"#),
        (#"{"instances":[{"I1":1}],}"#, #"expected '"' to begin an object key at byte 24, found '}'"#),
        (#"{"instances":[{"I1":01}]}"#, "leading zeros are not allowed in numbers at byte 20"),
        (#"{"instances":[{"I1":NaN}]}"#, "instances[0].I1: expected an integer or null, found 'N'"),
        (#"{"instances":[{"I1":1}]} x"#, "unexpected 'x' after the end of the JSON value at byte 25"),
        (#"{"instances":[{"I1":1e400}]}"#, "instances[0].I1: expected an integer or null, found 1e400"),
    ]

    @Test("invalid requests name the instance and field", arguments: invalid)
    func invalidRequests(_ json: String, _ expected: String) {
        #expect(message(json) == expected)
    }

    @Test("row limit states both counts")
    func rowLimit() {
        let body = String(decoding: CriteoBodies.body(rows: 12), as: UTF8.self)
        #expect(message(body, maxInstances: 10) == "too many instances: 12 > 10")
        if case .failure(let error) = decode(body, maxInstances: 10) { #expect(error.kind == .limitExceeded) }
        #expect(message(body, maxInstances: 12) == nil)
    }

    @Test("Criteo feature names map to their fields; others are unknown")
    func criteoNames() {
        let names = FieldNameTable(schema: .criteo, includeLabel: true)
        #expect(names.field(named: "I1") == .dense(0))
        #expect(names.field(named: "I13") == .dense(12))
        #expect(names.field(named: "C1") == .categorical(0))
        #expect(names.field(named: "C26") == .categorical(25))
        #expect(names.field(named: "label") == .ignored)
        for bad in ["I", "C", "I0", "I14", "C27", "C0", "C01", "X1", "I1a", "C100", "", "I:", "I/"] { #expect(names.field(named: bad) == nil, "\(bad)") }
    }
}
