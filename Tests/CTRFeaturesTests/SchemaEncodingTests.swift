import Foundation
import Testing
@testable import CTRFeatures

/// Fitting and encoding for a schema with every kind: string ids, a filled int id, a float with each
/// normalizer, and sequences (own vocabulary and shared with a categorical field).
@Suite struct SchemaEncodingTests {
    static let schema: FeatureSchema = {
        var schema = FeatureSchema(datasetID: "t", label: "clk", fields: [
            .init(name: "item", kind: .categorical),
            .init(name: "level", kind: .categorical, valueType: .int, fillNA: "0"),
            .init(name: "price", kind: .numeric, valueType: .float, normalizer: .standardScaler),
            .init(name: "age", kind: .numeric, valueType: .float, fillNA: "30", normalizer: .minMaxScaler),
            .init(name: "raw", kind: .numeric, valueType: .float),
            .init(name: "clicks", kind: .sequence, sequence: .init(splitter: "^", maxLength: 3, padding: .pre, sharedWith: "item")),
            .init(name: "tags", kind: .sequence, sequence: .init(splitter: "|", maxLength: 0, padding: .post)),
        ], inactiveColumns: ["ts"])
        schema.minCount = 1
        return schema
    }()

    static func rows() -> [RawRow] {
        [
            RawRow(label: 1, dense: [10, 20, 1], categorical: ["a", "1"], sequences: ["a^b", "x|y|z|w"]),
            RawRow(label: 0, dense: [20, 40, 2], categorical: ["b", nil], sequences: ["c", nil]),
            RawRow(label: 0, dense: [30, nil, nil], categorical: ["a", "2"], sequences: [nil, "y"]),
        ]
    }

    static func fitted() -> FeatureMap {
        var builder = FeatureMapBuilder(schema: schema)
        for row in rows() { builder.add(row) }
        return builder.build()
    }

    @Test func fitsVocabulariesTransformsAndLengths() throws {
        let map = Self.fitted()
        // Blocks: item (shared with clicks), level, then tags' own block.
        #expect(map.blockNames == ["item", "level", "tags"])
        #expect(map.vocabularies[0] == ["a", "b", "c"])  // a twice as item + once in clicks
        #expect(map.vocabularies[1] == ["0", "1", "2"])  // the missing level was filled with "0"
        #expect(map.vocabularies[2] == ["y", "w", "x", "z"])
        #expect(map.sequenceLengths == [3, 4])  // declared 3; tags: the longest seen
        #expect(map.sequenceBlocks == [0, 2])
        // price: mean 20, population std sqrt(200/3); age: filled 30, min 20, max 40; raw: identity.
        #expect(map.numericShifts[0] == 20)
        #expect(abs(map.denseScales[0] - (200.0 / 3).squareRoot()) < 1e-12)
        #expect(map.numericShifts[1] == 20 && map.denseScales[1] == 20)
        #expect(map.numericShifts[2] == 0 && map.denseScales[2] == 1)
        try map.validate(path: nil)
    }

    @Test func encodesEveryKind() throws {
        let map = Self.fitted()
        let encoder = FeatureEncoder(map: map)
        let offsets = map.fieldOffsets.map(Int64.init)
        var ids = [Int64](repeating: -9, count: 2), dense = [Float](repeating: -9, count: 3)
        var sequences = [Int64](repeating: -9, count: 7)
        encoder.encode(RawRow(dense: [20, nil, nil], categorical: ["zzz", nil], sequences: ["b^^c^a^q", "w"]),
                       ids: &ids, dense: &dense, sequences: &sequences)
        #expect(ids == [offsets[0] + 0, offsets[1] + 2])  // unseen item -> OOV; missing level -> fill "0"
        #expect(dense == [0, 0.5, 0])  // price at the mean; age filled 30 -> (30-20)/20; raw missing -> 0
        let pad0 = offsets[0] + 1, pad2 = offsets[2] + 1
        // pre: keep the last three tokens ("c", "a", "q"); "q" is OOV; the empty token would have been padding.
        #expect(Array(sequences[0..<3]) == [offsets[0] + 4, offsets[0] + 2, offsets[0]])
        // post: "w" first, then padding.
        #expect(Array(sequences[3..<7]) == [offsets[2] + 3, pad2, pad2, pad2])
        #expect(map.sequencePaddingIDs == [pad0, pad2])

        encoder.encode(RawRow(sequences: ["^a", nil]), ids: &ids, dense: &dense, sequences: &sequences)
        #expect(Array(sequences[0..<3]) == [pad0, pad0, offsets[0] + 2])  // pre-padded; the empty token is padding
        #expect(Array(sequences[3..<7]) == [pad2, pad2, pad2, pad2])
        #expect(dense[1] == 0.5)
    }

    @Test func roundTripsThroughFeaturesJSONWithItsSignature() throws {
        let map = Self.fitted()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("features.json")
        try map.write(to: url)
        let loaded = try FeatureMap(contentsOf: url)
        #expect(loaded.schema == map.schema)
        #expect(loaded.fingerprint == map.fingerprint)
        #expect(loaded.vocabularies == map.vocabularies)
        #expect(loaded.numericShifts == map.numericShifts)
        #expect(loaded.sequenceLengths == map.sequenceLengths)
        let signature = loaded.signature
        #expect(signature.inputs.map(\.name) == ["sparse_ids", "dense", "sequence_ids"])
        #expect(signature.inputs.map(\.shape) == [[-1, 2], [-1, 3], [-1, 7]])
        #expect(signature.input(.sequenceIDs)?.fields == ["clicks", "tags"])
        #expect(map.jsonBytes() == loaded.jsonBytes())
    }

    @Test func fingerprintCoversTheSchema() throws {
        let map = Self.fitted()
        var schema = Self.schema
        schema.fields[5].sequence?.padding = .post
        let changed = try FeatureMap(schema: schema, vocabularies: map.vocabularies, denseScales: map.denseScales,
                                     numericShifts: map.numericShifts, sequenceLengths: map.sequenceLengths, minCount: 1)
        #expect(changed.fingerprint != map.fingerprint)
        var renamed = Self.schema
        renamed.inactiveColumns = ["other"]
        let other = try FeatureMap(schema: renamed, vocabularies: map.vocabularies, denseScales: map.denseScales,
                                   numericShifts: map.numericShifts, sequenceLengths: map.sequenceLengths, minCount: 1)
        #expect(other.fingerprint != map.fingerprint)
    }

    @Test func sourceIsRecordedButOutsideTheFingerprint() throws {
        let map = Self.fitted()
        var schema = Self.schema
        schema.fields[0].source = "item"
        schema.fields[2].source = "user"
        schema.fields[5].source = "context"
        let marked = try FeatureMap(schema: schema, vocabularies: map.vocabularies, denseScales: map.denseScales,
                                    numericShifts: map.numericShifts, sequenceLengths: map.sequenceLengths, minCount: 1)
        // Ranking sides change no id: a bundle keeps its fingerprint when its fields are marked.
        #expect(marked.fingerprint == map.fingerprint)
        #expect(marked.schema.contextFields.map(\.name) == ["price", "clicks"])
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("features.json")
        try marked.write(to: url)
        let loaded = try FeatureMap(contentsOf: url)
        #expect(loaded.schema == marked.schema)
        #expect(loaded.schema.fields.map(\.source) == ["item", nil, "user", nil, nil, "context", nil])
    }

    @Test func nameTableFindsEveryColumnOf150Fields() {
        let fields = (0..<150).map { FeatureSchema.Field(name: "f\($0)", kind: $0 % 3 == 0 ? .numeric : .categorical, valueType: $0 % 3 == 0 ? .float : .string) }
        let schema = FeatureSchema(datasetID: "wide", label: "y", fields: fields, inactiveColumns: ["skip"])
        let table = FieldNameTable(schema: schema)
        var categorical = 0, numeric = 0
        for i in 0..<150 {
            let ref = table.field(named: "f\(i)")
            if i % 3 == 0 {
                #expect(ref == .dense(numeric)); numeric += 1
            } else {
                #expect(ref == .categorical(categorical)); categorical += 1
            }
        }
        #expect(table.field(named: "skip") == .ignored)
        #expect(table.field(named: "f150") == nil)
        #expect(table.field(named: "") == nil)
    }
}
