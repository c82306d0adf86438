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

                --drift F (with a --dataset-config other than Criteo's) draws a later day of the same \
                seed's world: a fraction F of the item-side values (source: item) are new, never seen \
                before, with weights of their own; the weights of a fraction F of the other values are \
                redrawn; the rows are a fresh draw. --drift-seed picks which (one seed per day).
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

        @Option(help: "A later day: the fraction (0 to 1) of item-side values replaced by new ones and of weights redrawn.")
        var drift: Double?

        @Option(help: "Which values and weights the drift moves (default 1); needs --drift.")
        var driftSeed: UInt64?

        func validate() throws {
            guard rows > 0 else { throw ValidationError("--rows must be positive, got \(rows).") }
            guard truthPath != out else { throw ValidationError("--truth must differ from --out.") }
            if let drift, !(0...1).contains(drift) { throw ValidationError("--drift must be between 0 and 1, got \(drift).") }
            if driftSeed != nil && drift == nil { throw ValidationError("--drift-seed needs --drift.") }
        }

        private var truthPath: String { truth ?? SyntheticCriteo.defaultTruthPath(for: out) }

        func run() throws {
            let config = try dataset.load()
            if drift != nil, config?.isCriteoLayout ?? true {
                throw ValidationError("--drift needs a --dataset-config other than the Criteo preset (SyntheticCriteo has no drift).")
            }
            guard let config else {
                print(try SyntheticCriteo(seed: seed).write(rows: rows, to: out, truthPath: truthPath))
                return
            }
            if config.isCriteoLayout {
                print(try SyntheticCriteo(seed: seed).write(rows: rows, to: out, truthPath: truthPath))
            } else {
                let drift = self.drift.map { SyntheticDataset.Drift(fraction: $0, seed: driftSeed ?? 1) }
                print(try SyntheticDataset(config: config, seed: seed, drift: drift).write(rows: rows, to: out, truthPath: truthPath))
            }
        }
    }
}
