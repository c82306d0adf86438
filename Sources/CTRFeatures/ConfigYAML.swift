import Foundation
import Yams

/// Reading a YAML config file, shared by dataset and model configs; each turns the reason into its own error.
enum ConfigYAML {
    /// The file's text, or why it cannot be read.
    static func text(of url: URL) -> Result<String, ConfigYAMLFailure> {
        do {
            return .success(try String(contentsOf: url, encoding: .utf8))
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "cannot be read as UTF-8 text" : "no such file"
            return .failure(ConfigYAMLFailure(reason: reason))
        }
    }

    /// The document's top-level mapping, or the parser's message on one line.
    static func topMapping(_ text: String, expected: String) -> Result<Node.Mapping, ConfigYAMLFailure> {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            return .failure(ConfigYAMLFailure(reason: "\(error)".replacingOccurrences(of: "\n", with: " ")))
        }
        guard let top = root?.mapping else { return .failure(ConfigYAMLFailure(reason: "expected a mapping of \(expected) at the top level")) }
        return .success(top)
    }
}

/// Why a config file could not be read or parsed (the callers wrap it in their own error type).
struct ConfigYAMLFailure: Error {
    var reason: String
}
