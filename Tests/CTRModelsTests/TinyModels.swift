@testable import CTRModels

/// Small models and batches shared by the model-level tests.
enum TinyModels {
    static let shape = ModelShape(vocabularySize: 40, sparseFields: 3, denseFields: 2)
    /// The same geometry with bucketed dense fields (scales 2 and 3: 5 and 6 buckets).
    static let bucketShape = ModelShape(vocabularySize: 40, sparseFields: 3, denseFields: 2,
                                        denseBuckets: DenseBuckets(scales: [2, 3]))
    /// Two sequence fields: length 5 over ids 1..<10 padded with 0, length 3 over 31..<40 padded with 30.
    static let sequenceFields = [SequenceField(length: 5, paddingID: 0), SequenceField(length: 3, paddingID: 30)]
    static let sequenceRanges: [Range<Int64>] = [1..<10, 31..<40]

    static var hyperparameters: ModelHyperparameters {
        var h = ModelHyperparameters()
        h.embeddingDimension = 4
        h.hiddenUnits = [6, 5]
        h.attentionLayers = 2
        h.attentionHeads = 2
        h.attentionDimension = 4
        h.useWide = true
        h.useScale = true
        return h
    }

    static func shape(_ encoding: DenseEncoding, sequences: Bool = false) -> ModelShape {
        var shape = encoding == .buckets ? bucketShape : shape
        if sequences { shape.sequenceFields = sequenceFields }
        return shape
    }

    static func make(
        _ architecture: ModelArchitecture, encoding: DenseEncoding = .numeric, sequences: Bool = false,
        maxBatch: Int = 8, seed: UInt64 = 1
    ) -> any CTRModel {
        let shape = shape(encoding, sequences: sequences)
        return switch architecture {
        case .deepfm: DeepFM(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .autoint: AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .lr: LogisticRegression(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        case .dcnv2: DCNv2(shape: shape, hyperparameters: hyperparameters, maxBatch: maxBatch, seed: seed)
        }
    }

    /// Random ids, dense values, labels and (for `sequenceFields`) sequences for `rows` rows.
    static func batch(
        rows: Int, seed: UInt64, sequenceFields: [SequenceField] = []
    ) -> (ids: [Int64], dense: [Float], sequences: [Int64], labels: [Float]) {
        var generator = SeededGenerator(seed: seed)
        let ids = (0..<(rows * shape.sparseFields)).map { _ in Int64(generator.next() % UInt64(shape.vocabularySize)) }
        // Mostly in [-0.5, 1.5) (every bucket, and beyond the largest), every seventh value missing (-2).
        let dense = (0..<(rows * shape.denseFields)).map { i in i % 7 == 3 ? -2 : Float(generator.nextUnit() * 2 - 0.5) }
        let labels = (0..<rows).map { _ in generator.nextUnit() < 0.4 ? Float(1) : 0 }
        let sequences = Self.sequences(rows: rows, fields: sequenceFields, ranges: sequenceRanges, using: &generator)
        return (ids, dense, sequences, labels)
    }

    /// Sequence rows cycling through full, partly padded (padding before, as FuxiCTR pads) and all padding.
    static func sequences(
        rows: Int, fields: [SequenceField], ranges: [Range<Int64>], using generator: inout SeededGenerator
    ) -> [Int64] {
        var result: [Int64] = []
        for row in 0..<rows {
            for (field, range) in zip(fields, ranges) {
                let padding = switch row % 3 {
                case 0: 0
                case 1: 1 + Int(generator.next() % UInt64(max(1, field.length - 1)))
                default: field.length
                }
                for t in 0..<field.length {
                    result.append(t < padding ? field.paddingID
                                  : range.lowerBound + Int64(generator.next() % UInt64(range.count)))
                }
            }
        }
        return result
    }

    /// Scales every value up so that gradients are far from zero (FuxiCTR's 1e-4 init is too flat to test).
    static func randomize(_ model: any CTRModel, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for parameter in model.parameters { parameter.fillNormal(std: 0.4, using: &generator) }
        for table in model.embeddingTables { table.fillNormal(std: 0.4, using: &generator) }
    }
}
