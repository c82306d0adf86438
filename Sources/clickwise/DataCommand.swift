import ArgumentParser

/// `clickwise data`: commands that make or inspect Criteo-format data.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make and inspect Criteo-format data.",
        subcommands: [Synth.self])
}
