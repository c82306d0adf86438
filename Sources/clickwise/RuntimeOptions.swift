import ArgumentParser
import ONNXRuntime

/// Flags shared by every command that loads ONNX Runtime.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .customLong("ort-library"), help: "Path to libonnxruntime.so (default: $ORT_DYLIB_PATH, then .venv, then the system).")
    var ortLibrary: String?

    /// Loads the runtime, turning failure into a one-line CLI error.
    func loadRuntime() throws -> ORTRuntime {
        do {
            return try ORTRuntime.load(explicitPath: ortLibrary)
        } catch {
            throw CLIError(error.message)
        }
    }
}

/// A failure reported as `clickwise: error: ...` on stderr with a non-zero exit, never a trace.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
