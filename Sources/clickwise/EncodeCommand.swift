import ArgumentParser
import CTRFeatures
import CTRModels
import Foundation

/// `clickwise encode BUNDLE --data FILE --out PREFIX`: rows encoded with the bundle's features.json, as .npy.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode rows with a bundle's features.json into NumPy files (for INT8 calibration and Python checks).",
        discussion: "Writes PREFIX.sparse_ids.npy (int64 [N,26]), PREFIX.dense.npy (float32 [N,13]) and PREFIX.labels.npy.")

    @Argument(help: "Model bundle directory holding features.json.")
    var bundle: String

    @Option(help: "Criteo TSV file with a label column.")
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
            print("wrote \(rows) encoded rows to \(out).{sparse_ids,dense,labels}.npy")
        } catch let error as FeatureMapError {
            throw CLIError("\(error)")
        } catch let error as CTRModelsError {
            throw CLIError(error.description)
        }
    }
}
