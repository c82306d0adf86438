import Foundation
import Testing
@testable import CTRModels

@Suite("ModelShape: sequence fields, and files written before they existed")
struct ModelShapeTests {
    @Test func decodesFilesWithoutSequenceFields() throws {
        let json = #"{"vocabularySize": 100, "sparseFields": 26, "denseFields": 13}"#
        let shape = try JSONDecoder().decode(ModelShape.self, from: Data(json.utf8))
        #expect(shape == ModelShape(vocabularySize: 100))
        #expect(shape.sequenceFields.isEmpty && shape.totalSequenceLength == 0 && shape.fieldCount == 39)
    }

    @Test func leavesTheKeyOutWithoutSequenceFields() throws {
        let encoded = try JSONEncoder().encode(ModelShape(vocabularySize: 100))
        let object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(Set(object.keys) == ["vocabularySize", "sparseFields", "denseFields"])
    }

    @Test func roundTripsSequenceFields() throws {
        let shape = ModelShape(vocabularySize: 100, sparseFields: 3, denseFields: 1, denseBuckets: DenseBuckets(scales: [2]),
                               sequenceFields: [SequenceField(length: 5, paddingID: 0), SequenceField(length: 3, paddingID: 40)])
        #expect(shape.totalSequenceLength == 8)
        #expect(shape.fieldCount == 6)
        let decoded = try JSONDecoder().decode(ModelShape.self, from: JSONEncoder().encode(shape))
        #expect(decoded == shape)
    }

    @Test func batchBufferHasRoomForSequences() {
        let batch = BatchBuffer(capacity: 4, sparseFields: 2, denseFields: 1, sequenceLength: 8)
        let inputs = batch.inputs(from: 3)
        #expect(inputs.ids == UnsafePointer(batch.ids + 6))
        #expect(inputs.dense == UnsafePointer(batch.dense.pointer + 3))
        #expect(inputs.sequences == UnsafePointer(batch.sequences + 24))
        // Without sequence columns the pointer stays valid (one dummy element) and never moves.
        let criteo = BatchBuffer(capacity: 4)
        #expect(criteo.sequenceLength == 0 && criteo.inputs(from: 3).sequences == UnsafePointer(criteo.sequences))
    }
}
