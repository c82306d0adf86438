import Foundation
import Testing
@testable import CTRFeatures

/// FuxiCTR's encoding as its `FeatureProcessor.transform` does it: per-feature indices (PAD 0, vocabulary
/// 1...N, OOV N+1), fill_na before lookup, sequences split, padded and truncated on their side, numbers
/// through scikit-learn's scalers.
@Suite struct FuxiCTREncodingTests {
    /// c: [a, b]; d: [p] with fill_na "q" (FuxiCTR never keeps the fill in the vocabulary); s: pre, shares c;
    /// t: post, own vocabulary [x, y], fill_na "none"; numbers plain, StandardScaler, MinMaxScaler, fill_na -1.
    static func map() throws -> FeatureMap {
        var schema = FeatureSchema(datasetID: "fx", label: "clk", fields: [
            .init(name: "c", kind: .categorical),
            .init(name: "plain", kind: .numeric, valueType: .float),
            .init(name: "std", kind: .numeric, valueType: .float, normalizer: .standardScaler),
            .init(name: "d", kind: .categorical, fillNA: "q"),
            .init(name: "mm", kind: .numeric, valueType: .float, normalizer: .minMaxScaler),
            .init(name: "filled", kind: .numeric, valueType: .float, fillNA: "-1.0"),
            .init(name: "s", kind: .sequence, sequence: .init(splitter: "^", maxLength: 3, padding: .pre, sharedWith: "c")),
            .init(name: "t", kind: .sequence, fillNA: "none", sequence: .init(splitter: "|", maxLength: 3, padding: .post)),
        ])
        schema.minCount = 1
        return try FeatureMap(fuxictrSchema: schema, vocabularies: [["a", "b"], ["p"], ["x", "y"]],
                              numericShifts: [0, 10, -1, 0], numericScales: [1, 2, 0.5, 1], sequenceLengths: [3, 3],
                              outputName: "y_pred")
    }

    static func sequence(_ encoder: FeatureEncoder, field: Int, _ text: String?) -> [Int64] {
        var out = [Int64](repeating: -7, count: encoder.sequenceLengths[field])
        out.withUnsafeMutableBufferPointer { buffer in
            if var text {
                text.withUTF8 { encoder.encodeSequence(field: field, utf8: UnsafeRawBufferPointer($0), into: buffer.baseAddress!) }
            } else {
                encoder.encodeSequence(field: field, utf8: nil, into: buffer.baseAddress!)
            }
        }
        return out
    }

    @Test func categoricalIndicesArePerFeatureWithPadZeroAndOOVLast() throws {
        let encoder = FeatureEncoder(map: try Self.map())
        #expect(encoder.categoricalID(field: 0, string: "a") == 1)
        #expect(encoder.categoricalID(field: 0, string: "b") == 2)
        #expect(encoder.categoricalID(field: 0, string: "zzz") == 3)  // OOV = N + 1
        #expect(encoder.categoricalID(field: 0, string: nil) == 3)    // missing -> fill_na "" -> OOV
        #expect(encoder.categoricalID(field: 0, string: "") == 3)
        #expect(encoder.categoricalID(field: 1, string: "p") == 1)    // no global offset
        #expect(encoder.categoricalID(field: 1, string: nil) == 2)    // fill_na "q" is not in the vocabulary -> OOV
        #expect(encoder.categoricalID(field: 1, string: "q") == 2)
    }

    @Test func numbersGoThroughScikitLearnsScalersAfterFillNA() throws {
        let encoder = FeatureEncoder(map: try Self.map())
        #expect(encoder.denseValue(field: 0, raw: 2.5) == 2.5)
        #expect(encoder.denseValue(field: 0, raw: nil) == 0)  // FuxiCTR's float fill_na default
        #expect(encoder.denseValue(field: 1, raw: 14) == 2)   // (14 - mean_ 10) / scale_ 2
        #expect(encoder.denseValue(field: 1, raw: nil) == -5) // fill 0, then scaled
        #expect(encoder.denseValue(field: 2, raw: 4) == 1)    // 4 * scale_ 0.5 + min_ -1
        #expect(encoder.denseValue(field: 3, raw: nil) == -1)
        // MinMaxScaler multiplies by scale_ and adds min_ (scikit-learn's order), in double precision.
        let x = 0.1, scale = 1.0 / 3.0, min = -0.7
        let map = try FeatureMap(
            fuxictrSchema: FeatureSchema(datasetID: "m", label: "y", fields: [.init(name: "v", kind: .numeric, valueType: .float,
                                                                                    normalizer: .minMaxScaler)]),
            vocabularies: [], numericShifts: [min], numericScales: [scale], sequenceLengths: [], outputName: "y_pred")
        #expect(FeatureEncoder(map: map).denseValue(field: 0, raw: x) == Float(x * scale + min))
    }

    @Test func sequencesArePaddedAndTruncatedOnTheirSideWithPadZero() throws {
        let encoder = FeatureEncoder(map: try Self.map())
        // pre (keeps the last tokens, pads in front), in c's shared vocabulary.
        #expect(Self.sequence(encoder, field: 0, "a^b^zzz^a") == [2, 3, 1])
        #expect(Self.sequence(encoder, field: 0, "a") == [0, 0, 1])
        #expect(Self.sequence(encoder, field: 0, "a^^b") == [1, 0, 2])  // an empty element is PAD
        #expect(Self.sequence(encoder, field: 0, "") == [0, 0, 0])
        #expect(Self.sequence(encoder, field: 0, nil) == [0, 0, 0])
        // post (keeps the first tokens, pads at the end); a token equal to fill_na is PAD as well.
        #expect(Self.sequence(encoder, field: 1, "x|y|x|y") == [1, 2, 1])
        #expect(Self.sequence(encoder, field: 1, "y") == [2, 0, 0])
        #expect(Self.sequence(encoder, field: 1, "none|w") == [0, 3, 0])
    }

    @Test func signatureHasOneInputPerFeatureInFieldOrder() throws {
        let signature = try Self.map().signature
        #expect(signature.inputs.map(\.name) == ["c", "plain", "std", "d", "mm", "filled", "s", "t"])
        #expect(signature.inputs.map(\.shape) == [[-1], [-1], [-1], [-1], [-1], [-1], [-1, 3], [-1, 3]])
        #expect(signature.inputs.map(\.elementType) == [.int64, .float32, .float32, .int64, .float32, .float32, .int64, .int64])
        #expect(signature.outputs.map(\.name) == ["y_pred"])
    }

    @Test func featuresJSONRoundTripsAsFormat3AndOldReadersRefuseIt() throws {
        let map = try Self.map()
        let bytes = map.jsonBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"formatVersion\" : 3,\n  \"encoding\" : \"fuxictr\","))
        #expect(text.contains("\"paddingIndex\" : 0"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fx-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try map.write(to: url)
        let read = try FeatureMap(contentsOf: url)
        #expect(read.encoding == .fuxictr)
        #expect(read.fingerprint == map.fingerprint)
        #expect(read.jsonBytes() == bytes)
        #expect(read.schema == map.schema)
        // The same content in our encoding is a different map (and fingerprint).
        let ours = try FeatureMap(schema: map.schema, vocabularies: map.vocabularies, denseScales: [1, 2, 0.5, 1],
                                  numericShifts: [0, 10, -1, 0], sequenceLengths: [3, 3], minCount: 1)
        #expect(ours.encoding == .clickwise)
        #expect(ours.fingerprint != map.fingerprint)
        // A version-3 file without the encoding key is refused rather than read as ours.
        let stripped = text.replacingOccurrences(of: "  \"encoding\" : \"fuxictr\",\n", with: "")
        try stripped.write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: FeatureMapError.self) { try FeatureMap(contentsOf: url) }
    }
}
