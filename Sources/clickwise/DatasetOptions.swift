import ArgumentParser
import CTRFeatures
import Foundation

/// `--dataset-config FILE [--dataset-id ID]`, shared by the commands that read a declared dataset.
struct DatasetOptions: ParsableArguments {
    @Option(help: "A FuxiCTR-style dataset_config.yaml (docs/DATASETS.md); without it, Criteo TSV.")
    var datasetConfig: String?

    @Option(help: "The dataset id within --dataset-config (needed when the file declares several).")
    var datasetId: String?

    /// The config file's dataset, nil without --dataset-config; a bad file is a one-line CLI error.
    func load() throws -> DatasetConfig? {
        guard let datasetConfig else { return nil }
        do {
            return try DatasetConfig(contentsOf: URL(fileURLWithPath: datasetConfig), datasetID: datasetId)
        } catch {
            throw CLIError(error.description)
        }
    }
}
