import Foundation
import ONNXRuntime
import Testing
@testable import CTRModels

@Suite("The initializer reader finds what the writer wrote, inline and as external data")
struct ONNXModelFileTests {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "clickwise-model-file-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A graph with a float matrix, an int64 vector and a float scalar.
    static func graph() -> ONNXGraphBuilder {
        var graph = ONNXGraphBuilder()
        graph.initializer("table", dimensions: [300, 4], values: (0..<1200).map { Float($0) * 0.25 - 7 })
        graph.constant("axes", int64s: [1, -1, 1 << 40])
        graph.constant("half", float: 0.5)
        return graph
    }

    static func modelBytes(_ graph: ONNXGraphBuilder, externalData: inout ONNXExternalData?) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.int(1, 8)
        var graphWriter = ProtobufWriter()
        graph.encode(name: "g", into: &graphWriter, externalData: &externalData)
        writer.data(7, graphWriter.bytes)
        writer.message(8) { $0.int(2, 17) }
        return writer.bytes
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    @Test("names, element types, shapes and values round-trip through raw_data")
    func inlineRoundTrip() throws {
        var none: ONNXExternalData?
        let path = Self.directory + "/inline.onnx"
        try Data(Self.modelBytes(Self.graph(), externalData: &none)).write(to: URL(fileURLWithPath: path))
        let file = try ONNXModelFile(path: path)
        #expect(file.initializers.map(\.name) == ["table", "axes", "half"])
        #expect(file.initializers.map(\.elementType) == [.float, .int64, .float])
        #expect(file.initializers.map(\.dimensions) == [[300, 4], [3], []])
        #expect(try file.contents(of: file.initializers[0]) == Self.bytes((0..<1200).map { Float($0) * 0.25 - 7 }))
        #expect(try file.contents(of: file.initializers[1]) == Self.bytes([Int64(1), -1, 1 << 40]))
        #expect(try file.contents(of: file.initializers[2]) == Self.bytes([Float(0.5)]))
        guard case .inline = file.initializers[0].storage else { Issue.record("\(file.initializers[0].storage)"); return }
    }

    @Test("external data: large tensors in the side file at 4096-aligned offsets, small ones inline, same values")
    func externalRoundTrip() throws {
        var external: ONNXExternalData? = ONNXExternalData(location: "ext.onnx.data", minimumTensorBytes: 16)
        let path = Self.directory + "/ext.onnx"
        try Data(Self.modelBytes(Self.graph(), externalData: &external)).write(to: URL(fileURLWithPath: path))
        try Data(try #require(external).bytes).write(to: URL(fileURLWithPath: path + ".data"))
        let file = try ONNXModelFile(path: path)
        guard case let .external(location, offset, length) = file.initializers[0].storage,
              case let .external(_, secondOffset, _) = file.initializers[1].storage else {
            Issue.record("expected external storage, got \(file.initializers.map(\.storage))"); return
        }
        #expect(location == "ext.onnx.data")
        #expect(offset == 0 && length == 4800)
        #expect(secondOffset == 8192)  // the next 4096 boundary after 4800 bytes
        guard case .inline = file.initializers[2].storage else { Issue.record("the 4-byte scalar should stay inline"); return }
        #expect(try file.contents(of: file.initializers[0]) == Self.bytes((0..<1200).map { Float($0) * 0.25 - 7 }))
        #expect(try file.contents(of: file.initializers[1]) == Self.bytes([Int64(1), -1, 1 << 40]))
    }

    @Test("every initializer of an exported DeepFM is found with its shape and the model's own values")
    func exportedModel() throws {
        let model = TinyModels.make(.deepfm, encoding: .buckets)
        TinyModels.randomize(model, seed: 3)
        let path = Self.directory + "/deepfm.onnx"
        try ONNXExporter.write(model, options: .init(), to: URL(fileURLWithPath: path))
        let file = try ONNXModelFile(path: path)
        let source = model.embeddingTables[0]
        let table = try #require(file.initializers.first { $0.name == source.name })
        #expect(table.dimensions == [Int64(source.rows), Int64(source.dimension)])
        #expect(try file.contents(of: table) == Self.bytes(source.value.array))
        for initializer in file.initializers {
            #expect(try file.contents(of: initializer).count == initializer.byteCount, "\(initializer.name)")
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".data"), "a small model stays in one file")
    }

    @Test("a truncated or garbage file is a modelFormat error naming the file and the byte")
    func malformed() throws {
        var none: ONNXExternalData?
        let bytes = Self.modelBytes(Self.graph(), externalData: &none)
        let path = Self.directory + "/truncated.onnx"
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ONNXModelFile(path: path)
            Issue.record("a truncated model was accepted")
        } catch {
            #expect(error.kind == .modelFormat)
            #expect(error.message.contains(path) && error.message.contains("at byte"), "\(error.message)")
        }
    }
}
