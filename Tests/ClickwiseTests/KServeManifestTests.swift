import ClickwiseTestSupport
import Foundation
import Testing
import Yams

/// deploy/kserve/args is the one list of container arguments (a serving test runs the binary with it);
/// the ServingRuntime must pass exactly those and expose, probe and name the ports they open.
@Suite struct KServeManifestTests {
    static let directory = ServeProcess.packageRoot + "/deploy/kserve"

    /// The arguments of deploy/kserve/args: one a line, without comments and blank lines.
    static func arguments() throws -> [String] {
        try String(contentsOfFile: directory + "/args", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func yaml(_ file: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(file) is not a YAML mapping")
    }

    static func value(after flag: String, in arguments: [String]) throws -> String {
        let index = try #require(arguments.firstIndex(of: flag), "\(flag) is not in deploy/kserve/args")
        return try #require(arguments.indices.contains(index + 1) ? arguments[index + 1] : nil, "\(flag) has no value")
    }

    @Test func servingRuntimePassesExactlyTheArgsFile() throws {
        let arguments = try Self.arguments()
        #expect(arguments.first == "serve")
        #expect(try Self.value(after: "--model", in: arguments) == "/mnt/models")
        #expect(try Self.value(after: "--host", in: arguments) == "0.0.0.0")
        let httpPort = try #require(Int(try Self.value(after: "--port", in: arguments)))
        let grpcPort = try #require(Int(try Self.value(after: "--grpc-port", in: arguments)))

        let runtime = try Self.yaml("servingruntime.yaml")
        #expect(runtime["kind"] as? String == "ServingRuntime")
        let spec = try #require(runtime["spec"] as? [String: Any])
        #expect(spec["protocolVersions"] as? [String] == ["v2", "grpc-v2"])
        let containers = try #require(spec["containers"] as? [[String: Any]])
        #expect(containers.count == 1)
        let container = try #require(containers.first)
        #expect(container["name"] as? String == "kserve-container")
        // YAML gives numbers for unquoted ports; the container sees strings either way.
        let rawArguments = try #require(container["args"] as? [Any])
        let manifestArguments: [String] = rawArguments.map { "\($0)" }
        #expect(manifestArguments == arguments)

        // KServe's names: http1 for HTTP/1.1, h2c for plaintext gRPC.
        let ports = try #require(container["ports"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: ports.map { ("\($0["name"] ?? "")", $0["containerPort"] as? Int) })
        #expect(byName == ["http1": httpPort, "h2c": grpcPort])
        let readiness = try #require((container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        #expect(readiness["path"] as? String == "/v2/health/ready")
        #expect(readiness["port"] as? Int == httpPort)
    }

    @Test func inferenceServiceUsesTheRuntimeAndAFormatItServes() throws {
        let runtime = try Self.yaml("servingruntime.yaml")
        let runtimeName = try #require((runtime["metadata"] as? [String: Any])?["name"] as? String)
        let formats = try #require((runtime["spec"] as? [String: Any])?["supportedModelFormats"] as? [[String: Any]])
            .compactMap { $0["name"] as? String }
        #expect(Set(formats) == ["onnx", "clickwise"])

        let service = try Self.yaml("inferenceservice.yaml")
        #expect(service["kind"] as? String == "InferenceService")
        let model = try #require(((service["spec"] as? [String: Any])?["predictor"] as? [String: Any])?["model"] as? [String: Any])
        #expect(model["runtime"] as? String == runtimeName)
        let format = try #require((model["modelFormat"] as? [String: Any])?["name"] as? String)
        #expect(formats.contains(format))
        #expect((model["storageUri"] as? String)?.isEmpty == false)
    }
}
