import ArgumentParser

/// The `clickwise` command: train, export, inspect and serve CTR models.
@main
struct Clickwise: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clickwise",
        abstract: "Train, inspect and serve CTR models (DeepFM, AutoInt) with ONNX Runtime.",
        subcommands: [ServeCommand.self, InspectCommand.self, DataCommand.self, TrainCommand.self, EvaluateCommand.self, ExportCommand.self, PublishCommand.self, EncodeCommand.self, BenchCommand.self, TuneCommand.self, SchemaCommand.self, ImportCommand.self])
}
