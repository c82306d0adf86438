import ArgumentParser
import CTRFeatures
import CTRModels
import Foundation

/// `clickwise encode BUNDLE --data FILE --out PREFIX`: rows encoded with the bundle's features.json, as .npy.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode rows with a bundle's features.json into NumPy files (for INT8 calibration and Python checks).",
        discussion: """
            Writes one PREFIX.<input>.npy per model input, named and shaped as features.json's signature says \
            (Criteo: PREFIX.sparse_ids.npy int64 [N,26], PREFIX.dense.npy float32 [N,13]; sequence_ids when the \
            schema has sequences), and PREFIX.labels.npy (0 for rows without a label).
            """)

    @Argument(help: "Model bundle directory holding features.json.")
    var bundle: String

    @Option(help: "Data file, laid out as the bundle's training data (features.json records it).")
    var data: String

    @Option(help: "Output path prefix.")
    var out: String

    @Option(help: "Encode at most this many rows.")
    var maxRows = 10_000

    func validate() throws {
        guard maxRows > 0 else { throw ValidationError("--max-rows must be positive, got \(maxRows)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: bundle).appendingPathComponent("features.json")
        do {
            let map = try FeatureMap(contentsOf: url)
            let rows = try EncodedRowsWriter.write(dataPath: data, encoder: FeatureEncoder(map: map), maxRows: maxRows, prefix: out)
            let names = map.signature.inputs.map(\.name) + ["labels"]
            print("wrote \(rows) encoded rows to \(out).{\(names.joined(separator: ","))}.npy")
        } catch let error as FeatureMapError {
            throw CLIError("\(error)")
        } catch let error as CTRModelsError {
            throw CLIError(error.description)
        }
    }
}
