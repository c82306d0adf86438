import Testing
@testable import CTRFeatures

/// The compact index on its own: every stored value maps to its own id, nothing else maps to anything.
@Suite struct VocabularyIndexTests {
    /// Global ids as ``FeatureMap`` lays them out: per field, OOV, missing, then the values.
    private static func offsets(_ vocabularies: [[String]]) -> (offsets: [Int], total: Int) {
        var offsets: [Int] = [], next = 0
        for values in vocabularies {
            offsets.append(next)
            next += values.count + FeatureMap.firstVocabularyIndex
        }
        return (offsets, next)
    }

    private static func index(_ vocabularies: [[String]], hashMask: UInt64 = ~0) -> VocabularyIndex {
        let (offsets, total) = offsets(vocabularies)
        return VocabularyIndex(vocabularies: vocabularies, offsets: offsets, totalSize: total, hashMask: hashMask)
    }

    private static func lookup(_ index: VocabularyIndex, _ field: Int, _ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { index.globalID(field: field, value: $0) }
    }

    private static func lookup(_ index: VocabularyIndex, _ field: Int, _ value: String) -> Int? {
        value.withBytes { index.globalID(field: field, value: $0) }
    }

    /// Short (<= 8 bytes, keyed by their bytes) and long values (hash fragment + bytes), multi-byte UTF-8,
    /// and one value present in two fields.
    static let vocabularies: [[String]] = [
        (0..<300).map { String(UInt32(truncatingIfNeeded: $0 &* 2_654_435_761), radix: 16) },
        ["a", "a\u{0}", "a\u{0}\u{0}", "\u{0}", "12345678", "123456789", "ä€", "𝄞𝄞", "shared", "x y"],
        [],
        ["shared", "a-much-longer-value-than-eight-bytes", "another one, longer still than the last one"],
    ]

    @Test(arguments: [~UInt64(0), 0b11, 0])
    func everyStoredValueMapsToItsOwnID(hashMask: UInt64) {
        let index = Self.index(Self.vocabularies, hashMask: hashMask)
        let (offsets, _) = Self.offsets(Self.vocabularies)
        #expect(index.firstDuplicate == nil)
        for (field, values) in Self.vocabularies.enumerated() {
            for (i, value) in values.enumerated() {
                #expect(Self.lookup(index, field, value) == offsets[field] + 2 + i, "field \(field) value \(value.debugDescription)")
            }
        }
        // The same text in two fields: two different ids, each in its own field's block.
        #expect(Self.lookup(index, 1, "shared") == offsets[1] + 2 + 8)
        #expect(Self.lookup(index, 3, "shared") == offsets[3] + 2)
    }

    @Test(arguments: [~UInt64(0), 0b11, 0])
    func unseenValuesAreOutOfVocabulary(hashMask: UInt64) {
        let index = Self.index(Self.vocabularies, hashMask: hashMask)
        let unseen = ["b", "a\u{0}\u{0}\u{0}", "1234567", "123456780", "12345678 ", "1234567890", "ä", "€", "𝄞",
                      "a-much-longer-value-than-eight-byteS", "a-much-longer-value-than-eight-bytes!", "x  y"]
        for value in unseen {
            #expect(Self.lookup(index, 1, value) == nil, "\(value.debugDescription)")
            #expect(Self.lookup(index, 3, value) == nil, "\(value.debugDescription)")
        }
        // Known in one field, unknown in another.
        #expect(Self.lookup(index, 2, "shared") == nil)
        #expect(Self.lookup(index, 0, "12345678") == nil)
        #expect(Self.lookup(index, 1, "a-much-longer-value-than-eight-bytes") == nil)
        // Empty is never stored (it means missing, which the encoder handles before the index).
        #expect(Self.lookup(index, 1, "") == nil)
        #expect(Self.lookup(index, 2, "") == nil)
    }

    @Test func bytesThatAreNotUTF8AreOutOfVocabulary() {
        // 0xFF pads short keys; a value holding it must not alias a shorter stored value.
        let index = Self.index([["a", "ab", "abcdefg"]])
        #expect(Self.lookup(index, 0, [0x61, 0xFF]) == nil)
        #expect(Self.lookup(index, 0, [0x61, 0x62, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(Self.lookup(index, 0, Array("abcdefg".utf8) + [0xFF]) == nil)
        #expect(Self.lookup(index, 0, [0xFF]) == nil)
        #expect(Self.lookup(index, 0, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(Self.lookup(index, 0, [0xC3, 0x28]) == nil)
        #expect(Self.lookup(index, 0, Array("ab".utf8)) == 3)
    }

    @Test func tinyTablesWithEveryProbeColliding() {
        // Every size from 1 to 40 values, all probes starting at slot 0 (mask 0) or spread out: lookups
        // wrap around the end of the table and walk whole clusters, and must stay exact.
        for size in 1...40 {
            let values = (0..<size).map { $0 % 3 == 0 ? "long value number \($0)" : "v\($0)" }
            for mask in [~UInt64(0), 0] {
                let index = Self.index([values, ["v0"]], hashMask: mask)
                for (i, value) in values.enumerated() {
                    #expect(Self.lookup(index, 0, value) == 2 + i)
                }
                #expect(Self.lookup(index, 1, "v0") == size + 4)
                #expect(Self.lookup(index, 1, "v1") == nil)
                #expect(Self.lookup(index, 0, "v\(size)") == nil)
                #expect(Self.lookup(index, 0, "long value number \(size)") == nil)
            }
        }
    }

    @Test func countsFragmentCollisionsOfLongValuesOnly() {
        let long = (0..<50).map { "long-value-\($0)" }
        let short = (0..<50).map { "s\($0)" }
        #expect(Self.index([long + short]).collisionCount == 0)
        // Two bits of fragment: at most 4 distinct fragments among 50 long values.
        #expect(Self.index([long + short], hashMask: 0b11).collisionCount >= 46)
        // Short values are keyed by their bytes: masking the hash cannot make them collide.
        #expect(Self.index([short], hashMask: 0).collisionCount == 0)
    }

    @Test(arguments: [["a", "b", "a"], ["long-value-x", "b", "long-value-x"]])
    func findsADuplicateWithinAField(values: [String]) {
        let index = Self.index([["z"], values])
        #expect(index.firstDuplicate == VocabularyIndex.Duplicate(field: 1, value: values[0]))
        #expect(Self.index([values.dropLast().map { $0 }, [values[0]]]).firstDuplicate == nil)
    }

    @Test func slotsAreTwelveBytes() {
        #expect(MemoryLayout<VocabularyIndex.Slot>.stride == 12)
    }
}
