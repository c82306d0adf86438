import ArgumentParser
import CTRData

extension DataCommand {
    /// `clickwise data synth`: writes synthetic Criteo TSV and each row's true click probability.
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write Criteo-shaped synthetic data drawn from a hidden click model.",
            discussion: """
                Also writes each row's true click probability, one per line, so the best achievable \
                AUC on the data is known. The same seed always gives the same rows.
                """)

        @Option(help: "Number of rows to write.")
        var rows: Int

        @Option(help: "Seed of the click model and the rows.")
        var seed: UInt64 = 1

        @Option(help: "Output TSV file.")
        var out: String

        @Option(help: "Output file of true probabilities (default: <out>.truth).")
        var truth: String?

        func validate() throws {
            guard rows > 0 else { throw ValidationError("--rows must be positive, got \(rows).") }
            guard truthPath != out else { throw ValidationError("--truth must differ from --out.") }
        }

        private var truthPath: String { truth ?? SyntheticCriteo.defaultTruthPath(for: out) }

        func run() throws {
            let summary = try SyntheticCriteo(seed: seed).write(rows: rows, to: out, truthPath: truthPath)
            print(summary)
        }
    }
}
