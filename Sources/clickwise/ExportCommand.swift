import ArgumentParser
import CTRFeatures
import CTRModels
import Foundation
import ONNXRuntime

/// `clickwise export`: more graphs for a trained bundle.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write another graph for a bundle trained by clickwise.",
        subcommands: [RankingExportCommand.self])
}

/// `clickwise export ranking BUNDLE`: the ranking graph of a bundle trained before its fields were marked.
struct RankingExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranking",
        abstract: "Write ranking.onnx for a bundle: its context fields computed once per :rank request.",
        discussion: """
            `train` writes ranking.onnx itself when the dataset config marks fields `source: user` or `source: context`.
            For a bundle trained without those marks, this reads the model back from model.onnx and model.json, records
            the context fields in features.json (the fingerprint does not change: no id does) and writes the ranking graph.
            The context fields come from --context-fields, else from a dataset config's `source` marks, else from
            features.json's own.
            """)

    @Argument(help: "A bundle directory trained by clickwise (model.onnx, features.json, model.json).")
    var bundle: String

    @Option(help: "Comma-separated fields sent once per request (the user and the page).")
    var contextFields: String?

    @Option(help: "A dataset config whose `source: user|context` marks name the context fields.")
    var datasetConfig: String?

    @OptionGroup var runtimeOptions: RuntimeOptions

    func run() throws {
        let directory = URL(fileURLWithPath: bundle)
        let loaded: ModelBundleReader.Loaded
        do {
            loaded = try ModelBundleReader.read(directory)
        } catch {
            throw CLIError("\(error)")
        }
        var map = loaded.featureMap
        var schema = map.schema
        let names = Set(schema.fields.map(\.name))
        var context: Set<String>?
        if let contextFields {
            let listed = contextFields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let unknown = listed.first(where: { !names.contains($0) }) {
                throw CLIError("--context-fields: \(unknown) is not a field of \(bundle) (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
            }
            context = Set(listed)
        } else if let datasetConfig {
            let config: DatasetConfig
            do {
                config = try DatasetConfig(contentsOf: URL(fileURLWithPath: datasetConfig))
            } catch {
                throw CLIError("\(error)")
            }
            context = Set(config.schema.contextFields.map(\.name)).intersection(names)
        }
        if let context {
            map = map.markingContext(context)
            schema = map.schema
        }
        guard ONNXExporter.hasRankingGraph(schema) else {
            throw CLIError("\(bundle): \(schema.contextFields.isEmpty ? "no field is marked as context" : "every field is marked as context"): a ranking graph needs fields sent once per request and fields sent per candidate (--context-fields, or source: user|context in --dataset-config)")
        }
        let fingerprint = map.fingerprint
        guard fingerprint == loaded.featureMap.fingerprint else {
            throw CLIError("\(bundle): marking context fields changed the feature map's fingerprint; not writing it")
        }
        let model = loaded.model
        try checkReadBack(model, map: map, directory: directory)
        var options = ONNXExporter.Options()
        options.sparseInput = map.sparseInputName
        options.denseInput = map.denseInputName
        options.sequenceInput = map.sequenceInputName
        options.outputName = map.outputName
        options.featureMapFingerprint = fingerprint
        let output = directory.appendingPathComponent(ModelBundleWriter.rankingFile)
        do {
            try ONNXExporter.writeRanking(model, schema: schema, options: options, to: output)
            // A format-1 features.json (Criteo bundles from before schemas) has no place for `source`; the ranking
            // graph's metadata names its context fields either way.
            if map.version > 1 { try map.write(to: directory.appendingPathComponent("features.json")) }
        } catch {
            throw CLIError("\(error)")
        }
        let fields = schema.contextFields.map(\.name)
        print("\(output.path): ranking graph of \(model.architecture.rawValue), \(fields.count) context fields (\(fields.joined(separator: ", "))), \(schema.fields.count - fields.count) per candidate")
    }

    /// Runs the read-back model and model.onnx on the same sample rows: a weight read wrong shows here, not in serving.
    private func checkReadBack(_ model: any CTRModel, map: FeatureMap, directory: URL) throws {
        let encoder = FeatureEncoder(map: map)
        let rows = 64
        let shape = model.shape
        var ids = [Int64](repeating: 0, count: rows * shape.sparseFields), dense = [Float](repeating: 0, count: rows * shape.denseFields)
        var sequences = [Int64](repeating: 0, count: rows * shape.totalSequenceLength)
        var generator = SystemRandomNumberGenerator()
        let sizes = map.fieldVocabularySizes, offsets = map.fieldOffsets
        for row in 0..<rows {
            for field in 0..<shape.sparseFields { ids[row * shape.sparseFields + field] = Int64(offsets[field] + Int.random(in: 0..<sizes[field], using: &generator)) }
            for field in 0..<shape.denseFields { dense[row * shape.denseFields + field] = encoder.denseValue(field: field, raw: Double.random(in: -1...50, using: &generator)) }
            sequences.withUnsafeMutableBufferPointer { out in
                for field in encoder.sequenceLengths.indices {
                    encoder.encodeSequence(field: field, utf8: nil, into: out.baseAddress! + row * shape.totalSequenceLength + encoder.sequenceStarts[field])
                }
            }
        }
        let expected = model.predict(ids: ids, dense: dense, sequences: sequences, count: rows)
        let runtime = try runtimeOptions.loadRuntime()
        let actual: [Float]
        do {
            let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .fatal))
            let options = try ORTSessionOptions(runtime: runtime)
            try options.setIntraOpThreads(1)
            let session = try ORTSession(path: directory.appendingPathComponent("model.onnx").path, options: options, environment: environment)
            var inputs: [String: ORTValue] = [:]
            if shape.sparseFields > 0 { inputs[map.sparseInputName] = try ORTValue(ids, shape: [Int64(rows), Int64(shape.sparseFields)], environment: environment) }
            if shape.denseFields > 0 { inputs[map.denseInputName] = try ORTValue(dense, shape: [Int64(rows), Int64(shape.denseFields)], environment: environment) }
            if shape.totalSequenceLength > 0 {
                inputs[map.sequenceInputName] = try ORTValue(sequences, shape: [Int64(rows), Int64(shape.totalSequenceLength)], environment: environment)
            }
            actual = try session.run(inputs)[map.outputName]?.array(of: Float.self) ?? []
        } catch {
            throw CLIError("running \(directory.path)/model.onnx: \(error)")
        }
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        guard actual.count == rows, worst < 1e-4 else {
            throw CLIError("\(bundle): the model read back from model.onnx predicts up to \(worst) away from model.onnx itself; not writing a ranking graph from it")
        }
    }
}
