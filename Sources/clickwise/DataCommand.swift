import ArgumentParser

/// `clickwise data`: commands that make or inspect Criteo-format data.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make synthetic data; label a prediction log with its clicks.",
        subcommands: [Synth.self, Join.self])
}
