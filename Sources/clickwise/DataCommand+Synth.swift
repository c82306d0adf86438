import Foundation
import ArgumentParser
import CTRData
import CTRFeatures

extension DataCommand {
    /// `clickwise data synth`: writes synthetic Criteo TSV and each row's true click probability.
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write synthetic data for any declared schema (Criteo by default), drawn from a hidden click model.",
            discussion: """
                Also writes each row's true click probability, one per line, so the best achievable \
                AUC on the data is known. The same seed always gives the same rows. Without \
                --dataset-config (or with the Criteo preset) the rows are Criteo TSV, unchanged from \
                earlier releases; with another config, a CSV in its layout with categorical, numeric and \
                sequence columns (SyntheticDataset).
                """)

        @OptionGroup var dataset: DatasetOptions

        @Option(help: "Number of rows to write.")
        var rows: Int

        @Option(help: "Seed of the click model and the rows.")
        var seed: UInt64 = 1

        @Option(help: "Output data file.")
        var out: String

        @Option(help: "Output file of true probabilities (default: <out>.truth).")
        var truth: String?

        func validate() throws {
            guard rows > 0 else { throw ValidationError("--rows must be positive, got \(rows).") }
            guard truthPath != out else { throw ValidationError("--truth must differ from --out.") }
        }

        private var truthPath: String { truth ?? SyntheticCriteo.defaultTruthPath(for: out) }

        func run() throws {
            guard let config = try dataset.load() else {
                print(try SyntheticCriteo(seed: seed).write(rows: rows, to: out, truthPath: truthPath))
                return
            }
            if config.isCriteoLayout {
                print(try SyntheticCriteo(seed: seed).write(rows: rows, to: out, truthPath: truthPath))
            } else {
                print(try SyntheticDataset(config: config, seed: seed).write(rows: rows, to: out, truthPath: truthPath))
            }
        }
    }
}
