import ClickwiseTestSupport
import CTRFeatures
import CTRServer
import CTRServing
import Foundation
import NIOCore

/// A real server on an ephemeral port, serving the fixture model with a small known vocabulary.
final class TestServer: @unchecked Sendable {
    // Set once in `start` before any test reads it.
    let application: InferenceCore
    let server: HTTPServer
    let port: Int
    let bundleDirectory: String
    let modelName = "tiny"
    private var runTask: Task<Void, Error>?

    static let fixtures: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// The feature map of the test bundle: per field 20 values "c<field>v<k>" (572 ids, within the fixture's 1,000).
    static let featureMap: FeatureMap = {
        let vocabularies = (0..<26).map { field in (0..<20).map { "c\(field)v\($0)" } }
        return try! FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 10, count: 13), minCount: 10)
    }()

    /// Writes a bundle directory `<root>/<name>/1/` for each of `names` and returns the repository root.
    static func makeRepository(model: String = "criteo_tiny.onnx", names: [String] = ["tiny"]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-test-\(UUID().uuidString)")
        for name in names {
            let bundle = root.appendingPathComponent("\(name)/1")
            try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixtures + "/" + model, toPath: bundle.appendingPathComponent("model.onnx").path)
            try featureMap.write(to: bundle.appendingPathComponent("features.json"))
            try Data(#"{"architecture":"fixture-linear"}"#.utf8).write(to: bundle.appendingPathComponent("model.json"))
        }
        return root.path
    }

    /// Builds, binds and warms up a server.
    static func start(pool: PoolConfiguration = PoolConfiguration(), model: String = "criteo_tiny.onnx", names: [String] = ["tiny"],
                      repository: String? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let repository = try repository ?? makeRepository(model: model, names: names)
        var configuration = ServerConfiguration(modelPath: repository)
        configuration.port = 0
        configuration.eventLoopThreads = 1
        configuration.pool = pool
        configure(&configuration)
        let application = try InferenceCore.build(configuration)
        let server = HTTPServer(core: application)
        let address = try await server.bind()
        try application.warmUp()
        let testServer = TestServer(application: application, server: server, port: address.port!, bundleDirectory: repository + "/tiny/1")
        testServer.runTask = Task { try await server.run() }
        return testServer
    }

    private init(application: InferenceCore, server: HTTPServer, port: Int, bundleDirectory: String) {
        self.application = application
        self.server = server
        self.port = port
        self.bundleDirectory = bundleDirectory
    }

    /// The server's `/metrics` page as the core renders it, parsed.
    func metrics() throws -> PrometheusText {
        try PrometheusText(String(decoding: application.renderMetrics(), as: UTF8.self))
    }

    /// Drains the server as SIGTERM would.
    func stop() async {
        await server.drain()
        _ = try? await runTask?.value
        try? FileManager.default.removeItem(atPath: (bundleDirectory as NSString).deletingLastPathComponent.appending("/.."))
    }
}

/// Deterministic raw rows over the test vocabulary, with some unknown and missing values.
enum TestRows {
    static func row(_ index: Int) -> [String: Any] {
        var row: [String: Any] = [:]
        for field in 0..<13 where (index + field) % 5 != 0 { row["I\(field + 1)"] = (index * 7 + field * 3) % 50 - 1 }
        for field in 0..<26 {
            switch (index + field) % 7 {
            case 0: continue                                   // absent: missing
            case 1: row["C\(field + 1)"] = "unseen\(index)"     // OOV
            default: row["C\(field + 1)"] = "c\(field)v\((index + field) % 20)"
            }
        }
        return row
    }

    static func body(rows: Range<Int>) -> [UInt8] {
        let object: [String: Any] = ["instances": rows.map { row($0) }]
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    /// The rows as RawRow, for encoding outside the server.
    static func rawRow(_ index: Int) -> RawRow {
        let object = row(index)
        return RawRow(label: nil,
                      dense: (0..<13).map { (object["I\($0 + 1)"] as? Int).map(Double.init) },
                      categorical: (0..<26).map { object["C\($0 + 1)"] as? String })
    }
}
