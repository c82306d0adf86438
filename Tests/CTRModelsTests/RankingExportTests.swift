import CTRFeatures
import Foundation
import ONNXRuntime
import Testing
@testable import CTRModels

/// The ranking graph (issue 24 item 3) in the real ONNX Runtime: the context of R requests once, N candidates
/// mapped to them by `request_index`, and every probability equal to the flat model's on the merged rows.
@Suite("Ranking graphs equal the flat model on the merged rows")
struct RankingExportTests {
    /// 26 categorical, 13 numeric and the two sequence fields of ``ONNXExportTests``, with `context` marked.
    static func schema(context: (categorical: Set<Int>, numeric: Set<Int>, sequences: Set<Int>)) -> FeatureSchema {
        func source(_ isContext: Bool) -> String { isContext ? "user" : "item" }
        var fields = (0..<26).map { FeatureSchema.Field(name: "c\($0)", kind: .categorical, source: source(context.categorical.contains($0))) }
        fields += (0..<13).map { FeatureSchema.Field(name: "n\($0)", kind: .numeric, valueType: .float, source: source(context.numeric.contains($0))) }
        fields += (0..<2).map { FeatureSchema.Field(name: "s\($0)", kind: .sequence, source: source(context.sequences.contains($0))) }
        return FeatureSchema(datasetID: "t", label: "clk", fields: fields)
    }

    static let splits: [String: (categorical: Set<Int>, numeric: Set<Int>, sequences: Set<Int>)] = [
        "half": (Set(stride(from: 0, to: 26, by: 2)), Set(0..<6), [0]),
        "one context field": ([3], [], []),
        "one candidate field": (Set(0..<25), Set(0..<13), [0, 1]),
        "numbers and sequences only": ([], Set(0..<13), [1]),
    ]

    static func model(_ variant: String, buckets: Bool) -> any CTRModel {
        var shape = buckets ? ONNXExportTests.bucketShape : ONNXExportTests.shape
        shape.sequenceFields = ONNXExportTests.sequenceFields
        var hyperparameters = ModelHyperparameters()
        hyperparameters.hiddenUnits = [32, 16]
        hyperparameters.batchNorm = true
        let model: any CTRModel
        switch variant {
        case "deepfm": model = DeepFM(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        case "lr": model = LogisticRegression(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        case "autoint":
            hyperparameters.useScale = true
            model = AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        case "autoint+":
            hyperparameters.attentionLayers = 2
            hyperparameters.attentionDimension = 16
            hyperparameters.autoIntHiddenUnits = [32, 16]
            hyperparameters.useWide = true
            model = AutoInt(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        default:
            hyperparameters.crossStructure = DCNv2.Structure(rawValue: String(variant.dropFirst("dcnv2-".count)))!
            hyperparameters.stackedHiddenUnits = [24, 8]
            model = DCNv2(shape: shape, hyperparameters: hyperparameters, maxBatch: 256, seed: 7)
        }
        ONNXExportTests.spreadWeights(model)
        // Batch normalization's running statistics away from (0, 1), so folding them matters.
        for layer in model.denseLayers {
            guard let norm = layer.batchNorm else { continue }
            for j in 0..<layer.outputSize {
                norm.runningMean[j] = Float(j % 5) * 0.1 - 0.2
                norm.runningVariance[j] = 0.5 + Float(j % 3) * 0.4
            }
        }
        return model
    }

    @Test(arguments: ["deepfm", "lr", "autoint", "autoint+", "dcnv2-parallel", "dcnv2-stacked", "dcnv2-stacked_parallel", "dcnv2-crossnet_only"],
          [false, true])
    func equalsTheFlatModel(variant: String, buckets: Bool) throws {
        let model = Self.model(variant, buckets: buckets)
        for (name, split) in Self.splits.sorted(by: { $0.key < $1.key }) {
            try Self.check(model, schema: Self.schema(context: split), split: name)
        }
    }

    @Test func noGraphWithoutBothSides() {
        let model = Self.model("deepfm", buckets: false)
        #expect(ONNXExporter.exportRanking(model, schema: Self.schema(context: ([], [], []))) == nil)
        #expect(ONNXExporter.exportRanking(model, schema: Self.schema(context: (Set(0..<26), Set(0..<13), [0, 1]))) == nil)
    }

    /// Runs the ranking graph on 7 requests' contexts and 60 candidates (requests in shuffled order) and compares it
    /// with the Swift forward pass on the merged rows (which ``ONNXExportTests`` ties to the flat graph).
    static func check(_ model: any CTRModel, schema: FeatureSchema, split: String) throws {
        let requests = 7, count = 60
        let sequenceFields = model.shape.sequenceFields, width = model.shape.totalSequenceLength
        var (ids, dense, sequences) = ONNXExportTests.rows(count, seed: 9, sequenceFields: sequenceFields)
        let contexts = ONNXExportTests.rows(requests, seed: 10, sequenceFields: sequenceFields)
        var generator = SeededGenerator(seed: 11)
        let requestIndex = (0..<count).map { _ in Int64(generator.next() % UInt64(requests)) }
        let isContext = (categorical: schema.categoricalFields.map(\.isContext), numeric: schema.numericFields.map(\.isContext),
                         sequences: schema.sequenceFields.map(\.isContext))
        var starts: [Int] = [], next = 0
        for field in sequenceFields {
            starts.append(next)
            next += field.length
        }
        let contextColumns = (
            categorical: (0..<26).filter { isContext.categorical[$0] }, numeric: (0..<13).filter { isContext.numeric[$0] },
            sequences: sequenceFields.indices.filter { isContext.sequences[$0] }.flatMap { starts[$0]..<(starts[$0] + sequenceFields[$0].length) })
        let itemColumns = (
            categorical: (0..<26).filter { !isContext.categorical[$0] }, numeric: (0..<13).filter { !isContext.numeric[$0] },
            sequences: sequenceFields.indices.filter { !isContext.sequences[$0] }.flatMap { starts[$0]..<(starts[$0] + sequenceFields[$0].length) })
        // Each candidate's context fields are its request's.
        for n in 0..<count {
            let r = Int(requestIndex[n])
            for c in contextColumns.categorical { ids[n * 26 + c] = contexts.ids[r * 26 + c] }
            for c in contextColumns.numeric { dense[n * 13 + c] = contexts.dense[r * 13 + c] }
            for c in contextColumns.sequences { sequences[n * width + c] = contexts.sequences[r * width + c] }
        }
        let expected = model.predict(ids: ids, dense: dense, sequences: sequences, count: count)

        let files = try #require(ONNXExporter.exportRanking(model, schema: schema))
        let options = try ORTSessionOptions(runtime: ONNXExportTests.environment.runtime)
        try options.setIntraOpThreads(1)
        let session = try files.model.withUnsafeBytes { try ORTSession(bytes: $0, options: options, environment: ONNXExportTests.environment) }
        let environment = ONNXExportTests.environment
        func pick<T>(_ values: [T], rows: Int, width: Int, columns: [Int]) -> [T] {
            (0..<rows).flatMap { row in columns.map { values[row * width + $0] } }
        }
        var inputs: [String: ORTValue] = ["request_index": try ORTValue(requestIndex, shape: [Int64(count)], environment: environment)]
        func add<T: ORTScalar>(_ name: String, _ values: [T], rows: Int, width: Int, columns: [Int]) throws {
            guard !columns.isEmpty else { return }
            inputs[name] = try ORTValue(pick(values, rows: rows, width: width, columns: columns), shape: [Int64(rows), Int64(columns.count)], environment: environment)
        }
        try add("context_sparse_ids", contexts.ids, rows: requests, width: 26, columns: contextColumns.categorical)
        try add("context_dense", contexts.dense, rows: requests, width: 13, columns: contextColumns.numeric)
        try add("context_sequence_ids", contexts.sequences, rows: requests, width: width, columns: contextColumns.sequences)
        try add("sparse_ids", ids, rows: count, width: 26, columns: itemColumns.categorical)
        try add("dense", dense, rows: count, width: 13, columns: itemColumns.numeric)
        try add("sequence_ids", sequences, rows: count, width: width, columns: itemColumns.sequences)
        #expect(Set(session.inputs.map(\.name)) == Set(inputs.keys), "\(split)")
        #expect(session.metadata.custom["graph"] == "ranking")
        let actual = try #require(try session.run(inputs)["probability"]).array(of: Float.self)
        #expect(actual.count == count && actual.allSatisfy(\.isFinite))
        let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5, "\(model.architecture.rawValue) \(split): max difference \(difference)")
        // The outputs must vary by far more than the tolerance (stacked DCNv2 saturates: its spread is ~0.003).
        #expect((expected.max() ?? 0) - (expected.min() ?? 0) > 1e-3, "\(split): the outputs must vary")
    }
}
