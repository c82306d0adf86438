import Foundation
import ONNXRuntime
import Testing
@testable import CTRModels

@Suite("Exported ONNX runs in the real ONNX Runtime and matches the Swift forward pass")
struct ONNXExportTests {
    /// The process-wide environment (ONNX Runtime allows one; the settings match the other test targets').
    static let environment: ORTEnvironment = {
        let runtime = try! ORTRuntime.load()
        return try! ORTEnvironment.make(runtime: runtime)
    }()

    /// Default (shipped) hyper-parameters over a small vocabulary.
    static let shape = ModelShape(vocabularySize: 500, sparseFields: 26, denseFields: 13)
    /// As `shape`, with bucketed dense fields; scales like a fitted map's (max of floor(ln(v)^2)), one fractional.
    static let bucketShape = ModelShape(
        vocabularySize: 500, sparseFields: 26, denseFields: 13,
        denseBuckets: DenseBuckets(scales: [2, 36, 97, 5, 190, 12, 64, 1, 25, 3.5, 49, 144, 81]))

    /// Two sequence fields: length 5 in sparse field 0's block (ids 0..<20, padding 0), length 3 in its own
    /// block (481..<500, padding 480).
    static let sequenceFields = [SequenceField(length: 5, paddingID: 0), SequenceField(length: 3, paddingID: 480)]

    /// Dense values in [-0.5, 1.5) (so beyond the largest bucket too), with every eleventh one missing (-2);
    /// with sequence fields, sparse field 0 takes ids in 0..<20 like the first sequence, whose rows cycle
    /// through full, partly padded and all padding.
    static func rows(_ count: Int, seed: UInt64, sequenceFields: [SequenceField] = []) -> (ids: [Int64], dense: [Float], sequences: [Int64]) {
        var generator = SeededGenerator(seed: seed)
        var ids = (0..<(count * 26)).map { _ in Int64(generator.next() % 500) }
        let dense = (0..<(count * 13)).map { i in i % 11 == 5 ? -2 : Float(generator.nextUnit() * 2 - 0.5) }
        guard !sequenceFields.isEmpty else { return (ids, dense, []) }
        for row in 0..<count { ids[row * 26] %= 20 }
        let sequences = TinyModels.sequences(rows: count, fields: sequenceFields, ranges: [1..<20, 481..<500], using: &generator)
        return (ids, dense, sequences)
    }

    @Test(arguments: ModelArchitecture.allCases, DenseEncoding.allCases)
    func matchesSwiftForward(architecture: ModelArchitecture, encoding: DenseEncoding) throws {
        var hyperparameters = ModelHyperparameters()
        hyperparameters.useScale = architecture == .autoint
        let shape = encoding == .buckets ? Self.bucketShape : Self.shape
        try Self.check(architecture.makeModel(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7))
    }

    /// AutoInt+ (parallel DNN, wide part) as shipped: small attention, bucketed integers.
    @Test func autoIntPlusMatchesSwiftForward() throws {
        var hyperparameters = ModelHyperparameters()
        hyperparameters.attentionLayers = 2
        hyperparameters.attentionDimension = 32
        hyperparameters.autoIntHiddenUnits = [64, 32]
        hyperparameters.useWide = true
        try Self.check(AutoInt(shape: Self.bucketShape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7))
    }

    /// Every architecture with two sequence fields; "autoint+" is AutoInt+ as shipped (bucketed, wide, DNN).
    @Test(arguments: ["deepfm", "autoint", "autoint+", "lr"], DenseEncoding.allCases)
    func matchesSwiftForwardWithSequences(variant: String, encoding: DenseEncoding) throws {
        var shape = encoding == .buckets ? Self.bucketShape : Self.shape
        shape.sequenceFields = Self.sequenceFields
        var hyperparameters = ModelHyperparameters()
        let architecture: ModelArchitecture
        switch variant {
        case "deepfm": architecture = .deepfm
        case "lr": architecture = .lr
        case "autoint":
            architecture = .autoint
            hyperparameters.useScale = true
        default:
            architecture = .autoint
            hyperparameters.attentionLayers = 2
            hyperparameters.attentionDimension = 32
            hyperparameters.autoIntHiddenUnits = [64, 32]
            hyperparameters.useWide = true
        }
        try Self.check(architecture.makeModel(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7))
    }

    /// Spreads the weights so that every term moves the output (FuxiCTR's 1e-4 init leaves p ≈ 0.5).
    static func spreadWeights(_ model: any CTRModel) {
        var generator = SeededGenerator(seed: 8)
        for table in model.embeddingTables { table.fillNormal(std: 0.3, using: &generator) }
        for parameter in model.parameters {
            parameter.fillNormal(std: 1 / Double(parameter.shape.first ?? 1).squareRoot(), using: &generator)
        }
    }

    /// Exports `model` (its weights spread first unless `spread` is false) and compares ORT with the Swift pass.
    static func check(_ model: any CTRModel, spread spreading: Bool = true) throws {
        let architecture = model.architecture
        if spreading { spreadWeights(model) }
        let count = 1000
        let sequenceFields = model.shape.sequenceFields, width = model.shape.totalSequenceLength
        let (ids, dense, sequences) = Self.rows(count, seed: 9, sequenceFields: sequenceFields)
        let expected = model.predict(ids: ids, dense: dense, sequences: sequences, count: count)

        var options = ONNXExporter.Options()
        options.featureMapFingerprint = "test-fingerprint"
        let bytes = ONNXExporter.export(model, options: options)
        let sessionOptions = try ORTSessionOptions(runtime: Self.environment.runtime)
        try sessionOptions.setIntraOpThreads(1)
        let session = try bytes.withUnsafeBytes {
            try ORTSession(bytes: $0, options: sessionOptions, environment: Self.environment)
        }
        // No sequence fields: exactly the two inputs of before.
        #expect(session.inputs.map(\.name) == (sequenceFields.isEmpty ? ["sparse_ids", "dense"] : ["sparse_ids", "dense", "sequence_ids"]))
        #expect(session.inputs[0].shape == [-1, 26])
        #expect(session.inputs[1].shape == [-1, 13])
        if !sequenceFields.isEmpty { #expect(session.inputs[2].shape == [-1, Int64(width)]) }
        #expect(session.outputs.map(\.name) == ["probability"])
        #expect(session.outputs[0].shape == [-1, 1])
        #expect(session.metadata.custom["architecture"] == architecture.rawValue)
        #expect(session.metadata.custom["feature_map_fingerprint"] == "test-fingerprint")
        #expect(session.metadata.custom["producer"] == "clickwise")

        let idValue = try ORTValue(ids, shape: [Int64(count), 26], environment: Self.environment)
        let denseValue = try ORTValue(dense, shape: [Int64(count), 13], environment: Self.environment)
        var inputs = ["sparse_ids": idValue, "dense": denseValue]
        if !sequenceFields.isEmpty {
            inputs["sequence_ids"] = try ORTValue(sequences, shape: [Int64(count), Int64(width)], environment: Self.environment)
        }
        let outputs = try session.run(inputs)
        let actual = try #require(outputs["probability"]).array(of: Float.self)
        #expect(actual.count == count)
        // An all-padding sequence must pool to zeros in the graph too, not 0/0 (max() would skip a NaN).
        #expect(actual.allSatisfy(\.isFinite) && expected.allSatisfy(\.isFinite))
        let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5)
        // The outputs must actually vary, or the comparison proves little.
        let spread = (expected.max() ?? 0) - (expected.min() ?? 0)
        #expect(spread > 0.1)
    }
}
