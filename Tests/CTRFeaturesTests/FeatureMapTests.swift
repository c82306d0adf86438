import Testing
@testable import CTRFeatures

@Suite struct FeatureMapTests {
    @Test func keepsValuesSeenAtLeastMinCountTimes() {
        let rows = repeated("a", count: 12) + repeated("b", count: 10) + repeated("c", count: 9)
        let map = FeatureMap.fit(rows)
        #expect(map.minCount == 10)
        #expect(map.vocabularies[0] == ["a", "b"])
        #expect(map.rowCount == 31)
        #expect(FeatureMap.fit(rows, minCount: 9).vocabularies[0] == ["a", "b", "c"])
        #expect(FeatureMap.fit(rows, minCount: 13).vocabularies[0].isEmpty)
    }

    @Test func ordersByDescendingCountThenValue() {
        let rows = repeated("d", count: 10) + repeated("b", count: 10) + repeated("z", count: 11) + repeated("bb", count: 10)
        #expect(FeatureMap.fit(rows).vocabularies[0] == ["z", "b", "bb", "d"])
    }

    @Test func idsAreDeterministicWhateverTheRowOrder() {
        var rows = repeated("p", count: 15) + repeated("q", count: 15) + repeated("r", field: 3, count: 20)
        rows += (0..<40).map { row([0: "v\($0 % 4)", 25: "w\($0 % 3)"], dense: [2: Int64($0)]) }
        let first = FeatureMap.fit(rows)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3 {
            let other = FeatureMap.fit(rows.shuffled(using: &generator))
            #expect(other.vocabularies == first.vocabularies)
            #expect(other.denseScales == first.denseScales)
            #expect(other.fingerprint == first.fingerprint)
        }
    }

    @Test func offsetsPartitionOneSharedTable() throws {
        let map = try smallMap()
        #expect(map.fieldVocabularySizes.count == 26)
        #expect(map.fieldVocabularySizes[0] == 4)  // OOV, missing, a, b
        #expect(map.fieldVocabularySizes[1] == 3)
        #expect(map.fieldVocabularySizes[2] == 2)
        #expect(map.fieldOffsets[0] == 0)
        #expect(map.fieldOffsets[1] == 4)
        #expect(map.fieldOffsets[2] == 7)
        #expect(map.totalVocabularySize == 4 + 3 + 24 * 2)
        #expect(map.fieldOffsets[25] + map.fieldVocabularySizes[25] == map.totalVocabularySize)
    }

    @Test func denseScaleIsTheLargestTransformedValueAndAtLeastOne() {
        let rows = [row(dense: [0: 100, 1: 1, 2: -7]), row(dense: [0: 1000]), row(dense: [0: 5])]
        let map = FeatureMap.fit(rows)
        #expect(map.denseScales[0] == 47)  // floor(ln(1000)^2) = floor(47.717)
        #expect(map.denseScales[1] == 1)
        #expect(map.denseScales[2] == 1)
        #expect(map.denseScales[3] == 1)  // never present
    }

    @Test func emptyStringCountsAsMissing() {
        let map = FeatureMap.fit(repeated("", count: 20))
        #expect(map.vocabularies[0].isEmpty)
    }

    @Test func byteLevelBuilderMatchesRowFit() {
        let rows = (0..<300).map { i in row([0: "k\(i % 7)", 4: "m\(i % 2)"], dense: [5: Int64(i)]) }
        var builder = FeatureMapBuilder(minCount: 10)
        for r in rows {
            for field in 0..<CriteoSchema.denseCount { builder.addDense(field: field, raw: r.dense[field]) }
            for field in 0..<CriteoSchema.categoricalCount {
                if let value = r.categorical[field] {
                    value.withBytes { builder.addCategorical(field: field, utf8: $0) }
                } else {
                    builder.addCategorical(field: field, utf8: nil)
                }
            }
            builder.finishRow()
        }
        let viaBytes = builder.build()
        let viaRows = FeatureMap.fit(rows)
        #expect(viaBytes.fingerprint == viaRows.fingerprint)
        #expect(viaBytes.rowCount == 300)
        #expect(builder.distinctCount(field: 0) == 7)
    }

    @Test func fingerprintIsStableAndTracksContent() throws {
        let map = try smallMap()
        #expect(map.fingerprint.count == 64)
        #expect(map.fingerprint == (try smallMap()).fingerprint)
        // Pinned: a change here means every exported model's recorded fingerprint changes meaning. (Version-1
        // maps, written before schemas, are pinned by the shipped bundles' own model.json files.)
        #expect(map.fingerprint == "88c3b445b53f2898c65b64638f4e1f1414475ba9f335049fc0e48e80474d9b93")

        var vocabularies = map.vocabularies
        vocabularies[0] = ["b", "a"]
        let reordered = try FeatureMap(vocabularies: vocabularies, denseScales: map.denseScales, minCount: 10)
        #expect(reordered.fingerprint != map.fingerprint)

        var scales = map.denseScales
        scales[12] = 2
        let rescaled = try FeatureMap(vocabularies: map.vocabularies, denseScales: scales, minCount: 10)
        #expect(rescaled.fingerprint != map.fingerprint)

        var renamed = map
        renamed.outputName = "prob"
        #expect(renamed.fingerprint != map.fingerprint)

        // minCount and rowCount do not change encoding, so they do not change the fingerprint.
        let sameEncoding = try FeatureMap(vocabularies: map.vocabularies, denseScales: map.denseScales, minCount: 3, rowCount: 99)
        #expect(sameEncoding.fingerprint == map.fingerprint)
    }

    @Test func rejectsInvalidContent() throws {
        let map = try smallMap()
        var duplicated = map.vocabularies
        duplicated[3] = ["q", "q"]
        #expect(throws: FeatureMapError.self) {
            try FeatureMap(vocabularies: duplicated, denseScales: map.denseScales, minCount: 10)
        }
        do {
            _ = try FeatureMap(vocabularies: duplicated, denseScales: map.denseScales, minCount: 10)
        } catch {
            #expect(error.code == .invalidVocabulary)
            #expect(error.detail.contains("C4"))
            #expect(error.detail.contains("\"q\""))
        }
        do {
            _ = try FeatureMap(vocabularies: map.vocabularies, denseScales: Array(repeating: 0.5, count: 13), minCount: 10)
            Issue.record("a scale below 1 was accepted")
        } catch {
            #expect(error.code == .invalidScale)
        }
        do {
            _ = try FeatureMap(vocabularies: Array(map.vocabularies.prefix(25)), denseScales: map.denseScales, minCount: 10)
            Issue.record("25 categorical fields were accepted")
        } catch {
            #expect(error.code == .schemaMismatch)
        }
    }
}
