import ArgumentParser
import Foundation
import ONNXRuntime

/// `clickwise inspect MODEL`: prints a model's inputs, outputs and metadata, and the runtime it would run on.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's inputs, outputs, metadata, the ONNX Runtime version and its execution providers.")

    @Argument(help: "An .onnx file, or a model bundle directory holding model.onnx.")
    var model: String

    @OptionGroup var runtimeOptions: RuntimeOptions

    func run() throws {
        let path = try Self.resolveModelPath(model)
        let runtime = try runtimeOptions.loadRuntime()
        let session: ORTSession
        do {
            let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .fatal))
            let options = try ORTSessionOptions(runtime: runtime)
            try options.setIntraOpThreads(1)
            session = try ORTSession(path: path, options: options, environment: environment)
        } catch {
            throw CLIError(Self.firstLine(error.message))
        }
        let providers = (try? runtime.availableProviders()) ?? []
        print("model:      \(path)")
        print("runtime:    ONNX Runtime \(runtime.version) (\(runtime.libraryPath))")
        print("providers:  \(providers.joined(separator: ", "))")
        print("inputs:")
        for input in session.inputs { print("  \(input)") }
        print("outputs:")
        for output in session.outputs { print("  \(output)") }
        let metadata = session.metadata
        print("metadata:")
        print("  producer: \(metadata.producerName)")
        print("  graph:    \(metadata.graphName)")
        if !metadata.domain.isEmpty { print("  domain:   \(metadata.domain)") }
        if !metadata.description.isEmpty { print("  description: \(metadata.description)") }
        print("  version:  \(metadata.version)")
        for key in metadata.custom.keys.sorted() { print("  \(key): \(metadata.custom[key]!)") }
    }

    /// The model file for a path that names a file or a bundle directory; a clear error otherwise.
    static func resolveModelPath(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(path): no such file")
        }
        if isDirectory.boolValue {
            let inside = (path as NSString).appendingPathComponent("model.onnx")
            guard FileManager.default.fileExists(atPath: inside) else {
                throw CLIError("\(path) is a directory without model.onnx; pass an .onnx file or a model bundle")
            }
            return inside
        }
        return path
    }

    /// ONNX Runtime's messages can span lines; the CLI promises one.
    static func firstLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
    }
}
