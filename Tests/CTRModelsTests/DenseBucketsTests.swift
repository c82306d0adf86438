import Foundation
import Testing
@testable import CTRModels

@Suite("Dense buckets recover the transformed integer and give missing its own row")
struct DenseBucketsTests {
    @Test func layout() {
        let buckets = DenseBuckets(scales: [1, 4, 2.5])
        // Per field: missing, -1, 0, …, ceil(scale).
        #expect(buckets.offsets == [0, 4, 11])
        #expect(buckets.rows == 4 + 7 + 6)
        #expect(buckets.maxValues == [1, 4, 3])
    }

    @Test func rows() {
        let buckets = DenseBuckets(scales: [1, 4, 2.5])
        // Field 1 (scale 4): the encoder's inputs are transformed / 4.
        #expect(buckets.row(field: 1, value: -2) == 4)         // missing (denseMissingValue)
        #expect(buckets.row(field: 1, value: -0.25) == 5)      // transformed -1
        #expect(buckets.row(field: 1, value: 0) == 6)
        #expect(buckets.row(field: 1, value: 0.75) == 9)       // transformed 3
        #expect(buckets.row(field: 1, value: 1) == 10)         // the largest seen in training
        #expect(buckets.row(field: 1, value: 7) == 10)         // larger values share the last bucket
        #expect(buckets.row(field: 1, value: -50) == 4)        // anything below -1 is missing
        #expect(buckets.row(field: 1, value: .nan) == 4)
        #expect(buckets.row(field: 1, value: .infinity) == 10)
        // A scaled value read back through float32 still lands on its integer.
        for transformed in -1...190 {
            let scale = 190.0
            let x = Float(Double(transformed) * (1 / scale))
            #expect(DenseBuckets(scales: [scale]).row(field: 0, value: x) == transformed + 2)
        }
        // Field 0 (scale 1): rows 0…3; field 2 starts at row 11.
        #expect(buckets.row(field: 0, value: 1) == 3)
        #expect(buckets.row(field: 2, value: -2) == 11)
    }
}

@Suite("model.json written before dense buckets existed still decodes")
struct TrainingConfigurationCompatibilityTests {
    @Test func missingDenseEncodingMeansNumeric() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let current = TrainingConfiguration(architecture: .deepfm)
        #expect(current.denseEncoding == .buckets)
        let data = try encoder.encode(current)
        #expect(try decoder.decode(TrainingConfiguration.self, from: data) == current)

        // The configuration block of a bundle trained before buckets: no dense_encoding key.
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.removeValue(forKey: "dense_encoding") != nil)
        let old = try decoder.decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.denseEncoding == .numeric)
        #expect(old.hyperparameters == current.hyperparameters && old.minCount == current.minCount)
    }
}
