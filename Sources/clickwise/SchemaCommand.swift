import ArgumentParser

/// `clickwise schema`: commands that describe a dataset's columns.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Describe a dataset's columns (infer a FuxiCTR dataset config from a CSV).",
        subcommands: [Infer.self])
}
