import ClickwiseTestSupport
import Foundation

/// Runs a Python snippet with the project's .venv (which has Triton's own client and its generated
/// protobuf classes) off the cooperative pool, and returns its exit status and output lines.
enum TritonPython {
    static let python = ServeProcess.packageRoot + "/.venv/bin/python"

    static func run(_ script: String, _ arguments: [String], timeout: Double = 120) async throws -> (status: Int32, lines: [String]) {
        let process = try ServeProcess(python, ["-c", script] + arguments, label: "python")
        return try await withCheckedThrowingContinuation { continuation in
            // waitForExit polls with usleep: keep it off the threads that run the gRPC handlers.
            Thread.detachNewThread {
                do {
                    let status = try process.waitForExit(timeout: timeout)
                    // The last line marks that the reader thread has taken everything printed.
                    _ = try? process.waitForLine(timeout: 2) { $0 == "END" }
                    continuation.resume(returning: (status, process.output.filter { $0 != "END" }))
                } catch {
                    process.stop()
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
