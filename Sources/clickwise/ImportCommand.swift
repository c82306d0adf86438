import ArgumentParser

/// `clickwise import`: turns models trained by other frameworks into bundles `clickwise serve` serves.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a model trained elsewhere (FuxiCTR) into a bundle that serves raw rows.",
        subcommands: [FuxiCTR.self])
}
