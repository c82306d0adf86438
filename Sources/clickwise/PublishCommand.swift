import ArgumentParser
import CTRServing

/// `clickwise publish BUNDLE --repository DIR --model NAME`: the bundle as the model's next version, atomically.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a bundle as the next version of a model in a repository, atomically (a polling server never sees half a version).",
        discussion: """
            The files are staged beside the versions, flushed to disk and renamed to <repository>/<model>/<next>/ in
            one step; `serve --model <repository> --repository-poll-secs N` then loads it and drains the old version
            without failing a request. --keep N removes all but the N newest versions afterwards (N >= 2: the new
            one, and the one servers serve until their next poll).
            """)

    @Argument(help: "A bundle directory (model.onnx, features.json, model.json, ranking.onnx ...).")
    var bundle: String

    @Option(help: "The model repository servers poll.")
    var repository: String

    @Option(help: "The model's name in the repository.")
    var model: String

    @Option(help: "Versions to keep after publishing, newest first (at least 2); default: all.")
    var keep: Int?

    func run() throws {
        let outcome: ModelPublisher.Outcome
        do {
            outcome = try ModelPublisher.publish(bundle: bundle, repository: repository, model: model, keep: keep)
        } catch {
            throw CLIError(error.message)
        }
        print("published \(model) version \(outcome.version): \(outcome.directory)")
        if !outcome.pruned.isEmpty { print("pruned versions \(outcome.pruned.map(String.init).joined(separator: ", "))") }
    }
}
