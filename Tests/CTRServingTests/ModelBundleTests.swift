import CTRFeatures
import CTRServing
import ClickwiseTestSupport
import Foundation
import Testing

@Suite("a served bundle keeps its vocabulary once")
struct ModelBundleTests {
    @Test("the vocabulary values live only in the encoder's index unless a tool asks to keep them")
    func releasesValues() throws {
        let directory = ServeProcess.packageRoot + "/models/deepfm/1"
        let served = try ModelBundle(directory: directory, name: "deepfm", version: "1")
        let kept = try ModelBundle(directory: directory, name: "deepfm", version: "1", keepingVocabularyValues: true)
        let file = try FeatureMap(contentsOf: URL(fileURLWithPath: directory + "/features.json"))
        let servedMap = try #require(served.featureMap), keptMap = try #require(kept.featureMap)
        let encoder = try #require(served.encoder)
        #expect(!servedMap.hasVocabularyValues && !encoder.map.hasVocabularyValues)
        #expect(keptMap.hasVocabularyValues && keptMap.vocabularies == file.vocabularies)
        #expect(servedMap.fingerprint == file.fingerprint && servedMap.signature == file.signature)
        #expect(servedMap.fieldOffsets == file.fieldOffsets)
        // Every value still encodes to its id: the index, not the map, answers.
        for (block, values) in file.vocabularies.enumerated() where block < file.schema.categoricalFields.count {
            for (local, value) in values.enumerated().prefix(50) {
                #expect(encoder.categoricalID(field: block, string: value) == Int64(file.fieldOffsets[block] + FeatureMap.firstVocabularyIndex + local))
            }
        }
    }
}
