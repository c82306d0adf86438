import Testing
@testable import CTRFeatures

@Suite struct FeatureEncoderTests {
    @Test(arguments: [
        ("I1", FieldRef.dense(0)), ("I7", .dense(6)), ("I13", .dense(12)),
        ("C1", .categorical(0)), ("C10", .categorical(9)), ("C26", .categorical(25)),
    ])
    func parsesFieldNames(name: String, expected: FieldRef) {
        #expect(FieldNameTable(schema: .criteo).field(named: name) == expected)
    }

    @Test(arguments: ["", "I", "I0", "I14", "C0", "C27", "C01", "c1", "X1", "I1 ", "C100", "I-1"])
    func rejectsOtherNames(name: String) {
        #expect(FieldNameTable(schema: .criteo).field(named: name) == nil)
    }

    @Test func everySchemaNameRoundTrips() {
        for (i, name) in CriteoSchema.denseNames.enumerated() { #expect(FieldNameTable(schema: .criteo).field(named: name) == .dense(i)) }
        for (i, name) in CriteoSchema.categoricalNames.enumerated() { #expect(FieldNameTable(schema: .criteo).field(named: name) == .categorical(i)) }
    }

    @Test func assignsVocabularyOOVAndMissingIDs() throws {
        let encoder = FeatureEncoder(map: try smallMap())
        #expect(encoder.categoricalID(field: 0, string: "a") == 2)
        #expect(encoder.categoricalID(field: 0, string: "b") == 3)
        #expect(encoder.categoricalID(field: 0, string: "zzz") == 0)  // OOV
        #expect(encoder.categoricalID(field: 0, string: nil) == 1)    // missing
        #expect(encoder.categoricalID(field: 0, string: "") == 1)     // empty is missing
        #expect(encoder.categoricalID(field: 1, string: "x") == 4 + 2)
        #expect(encoder.categoricalID(field: 1, string: "a") == 4 + 0)  // known in C1, not in C2
        #expect(encoder.categoricalID(field: 2, string: "a") == 7 + 0)
        #expect(encoder.categoricalID(field: 25, string: nil) == Int64(encoder.map.fieldOffsets[25] + 1))
    }

    @Test func utf8AndStringPathsAgree() {
        let values = (0..<500).map { String(format: "%08x", UInt32(truncatingIfNeeded: $0 &* 2_654_435_761)) }
        let rows = values.flatMap { repeated($0, field: 3, count: 10) } + repeated("ä€𝄞", field: 3, count: 10)
        let encoder = FeatureEncoder(map: FeatureMap.fit(rows))
        for value in values + ["ä€𝄞", "unseen", "0000000", "000000000"] {
            let viaString = encoder.categoricalID(field: 3, string: value)
            let viaBytes = value.withBytes { encoder.categoricalID(field: 3, utf8: $0) }
            #expect(viaString == viaBytes)
        }
        #expect(encoder.categoricalID(field: 3, utf8: nil) == encoder.categoricalID(field: 3, string: nil))
        let ids = Set(values.map { encoder.categoricalID(field: 3, string: $0) })
        #expect(ids.count == 500)
        #expect(ids.allSatisfy { $0 >= 2 })
    }

    @Test func collidingHashesStillGiveExactIDs() {
        // Keep 2 bits of each hash: most values collide, so lookups must probe on and compare bytes.
        // Values longer than 8 bytes are keyed by the (masked) hash itself; shorter ones by their bytes.
        let values = (0..<100).map { "v\($0)" } + (0..<100).map { "long-value-\($0)" }
        let map = FeatureMap.fit(values.flatMap { repeated($0, field: 5, count: 10) })
        let exact = FeatureEncoder(map: map)
        let colliding = FeatureEncoder(map: map, hashMask: 0b11)
        let allSame = FeatureEncoder(map: map, hashMask: 0)
        #expect(VocabularyIndex(vocabularies: map.vocabularies, offsets: map.fieldOffsets,
                                totalSize: map.totalVocabularySize, hashMask: 0b11).collisionCount > 90)
        #expect(VocabularyIndex(vocabularies: map.vocabularies, offsets: map.fieldOffsets,
                                totalSize: map.totalVocabularySize).collisionCount == 0)
        for value in values + ["v100", "w", "v1 ", "long-value-100", "long-value-1 "] {
            let expected = exact.categoricalID(field: 5, string: value)
            #expect(colliding.categoricalID(field: 5, string: value) == expected)
            #expect(allSame.categoricalID(field: 5, string: value) == expected)
        }
        #expect(colliding.categoricalID(field: 5, string: "long-value-100") == Int64(map.fieldOffsets[5]))
        #expect(exact.categoricalID(field: 5, string: "long-value-7") >= 2)
    }

    @Test func shortValuesDifferingOnlyInTrailingZeroBytesStayDistinct() {
        let values = ["a", "a\u{0}", "a\u{0}\u{0}"]
        let encoder = FeatureEncoder(map: FeatureMap.fit(values.flatMap { repeated($0, count: 10) }))
        let ids = values.map { encoder.categoricalID(field: 0, string: $0) }
        #expect(Set(ids).count == 3)
        #expect(ids.allSatisfy { $0 >= 2 })
    }

    @Test func denseTransformOnHandComputedValues() {
        #expect(DenseTransform.apply(0) == 0)
        #expect(DenseTransform.apply(1) == 1)
        #expect(DenseTransform.apply(2) == 2)
        #expect(DenseTransform.apply(3) == 1)     // ln 3 = 1.0986, squared 1.2069
        #expect(DenseTransform.apply(10) == 5)    // ln 10 = 2.3026, squared 5.3019
        #expect(DenseTransform.apply(100) == 21)  // 21.2076
        #expect(DenseTransform.apply(1000) == 47) // 47.7171
        #expect(DenseTransform.apply(-1) == -1)
        #expect(DenseTransform.apply(-5) == -1)
        #expect(DenseTransform.apply(.nan) == -1)
    }

    @Test func scalesDenseValuesByTheFittedScale() throws {
        let encoder = FeatureEncoder(map: try smallMap())  // I1 scale 21, others 1
        #expect(encoder.denseValue(field: 0, raw: 100) == 1)
        #expect(encoder.denseValue(field: 0, raw: 10) == Float(5.0 / 21.0))
        #expect(encoder.denseValue(field: 0, raw: nil) == 0)
        #expect(encoder.denseValue(field: 0, raw: -3) == Float(-1.0 / 21.0))
        #expect(encoder.denseValue(field: 1, raw: 2) == 2)
    }

    @Test func encodesAWholeRow() throws {
        let encoder = FeatureEncoder(map: try smallMap())
        let raw = row([0: "b", 1: "x", 2: "q"], dense: [0: 100, 4: 1])
        var ids = [Int64](repeating: -9, count: 26)
        var dense = [Float](repeating: -9, count: 13)
        ids.withUnsafeMutableBufferPointer { i in
            dense.withUnsafeMutableBufferPointer { d in encoder.encode(raw, ids: i.baseAddress!, dense: d.baseAddress!) }
        }
        #expect(ids[0] == 3)
        #expect(ids[1] == 6)
        #expect(ids[2] == 7)  // OOV of C3
        #expect(ids[3] == 9 + 1)  // missing C4
        #expect(dense[0] == 1)
        #expect(dense[4] == 1)
        #expect(dense[1] == 0)
        // A short row counts its absent trailing fields as missing rather than crashing.
        let short = RawRow(label: nil, dense: [5], categorical: ["a"])
        ids.withUnsafeMutableBufferPointer { i in
            dense.withUnsafeMutableBufferPointer { d in encoder.encode(short, ids: i.baseAddress!, dense: d.baseAddress!) }
        }
        #expect(ids[0] == 2)
        #expect(ids[1] == 5)
        #expect(dense[1] == 0)
    }
}
