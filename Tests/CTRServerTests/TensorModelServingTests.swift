import ClickwiseTestSupport
import CTRServer
import CTRServing
import Foundation
import Testing

/// Plain ONNX models (a directory holding only model.onnx) served over KServe v2 as Triton's ONNX backend
/// serves them: the fixtures of scripts/make_tensor_fixtures.py, checked against Python's onnxruntime by the
/// real tritonclient (scripts/tensor_model_check.py), and the refusals that need no client.
@Suite("plain ONNX models over KServe v2")
struct TensorModelServingTests {
    static let repository = TestServer.fixtures + "/tensor"
    static let python = ServeProcess.packageRoot + "/.venv/bin/python"

    /// Serves the fixture repository in process, bound and warm.
    static func withServer(_ body: (Int) throws -> Void) async throws {
        var configuration = ServerConfiguration(modelPath: repository)
        configuration.port = 0
        configuration.eventLoopThreads = 1
        let core = try InferenceCore.build(configuration)
        let server = HTTPServer(core: core)
        let address = try await server.bind()
        try core.warmUp()
        let run = Task { try await server.run() }
        defer { run.cancel() }
        try body(address.port!)
        await server.drain()
        _ = try? await run.value
    }

    /// Runs scripts/tensor_model_check.py against a `clickwise serve` of the fixture repository.
    static func check(protocol name: String) throws {
        // A long queue delay so the concurrent requests meet in the queue and share runs.
        let (served, http, grpc) = try ServeProcessTests.serveBoth(["--model", repository, "--max-queue-delay-us", "100000"])
        defer { served.stop() }
        let url = "127.0.0.1:\(name == "grpc" ? grpc : http)"
        let check = try ServeProcess(python, [ServeProcess.packageRoot + "/scripts/tensor_model_check.py", url, repository, "--protocol", name,
                                              "--concurrent", "mixed", "--concurrent", "ragged"], label: "tensor-check-\(name)")
        let status = try check.waitForExit(timeout: 120)
        print(check.output.joined(separator: "\n"))
        #expect(status == 0, "\(check.output.filter { !$0.hasPrefix("ok") })")
        #expect(check.output.contains("0 failed"))
        // Every signature was checked, both encodings over HTTP.
        for model in ["mixed", "per_feature", "fixed", "deepctr", "types", "ragged"] {
            #expect(check.output.contains { $0.hasPrefix("ok [\(name)] \(model) infer") && $0.contains("equals onnxruntime") }, "\(model)")
        }
    }

    @Test("JSON and binary tensors over HTTP equal onnxruntime for six signatures; concurrent requests share runs and get their own rows")
    func overHTTP() throws { try Self.check(protocol: "http") }

    @Test("raw tensors over gRPC equal onnxruntime for six signatures; errors are INVALID_ARGUMENT naming the input")
    func overGRPC() throws { try Self.check(protocol: "grpc") }

    @Test("the CTR API on a model without features.json is a 404 pointing at v2; bad tensors are 400s naming the input")
    func refusals() async throws {
        try await Self.withServer { port in
            let client = HTTPTestClient(port: port)
            let predict = try client.send("POST", "/v1/models/mixed:predict", body: Array(#"{"instances":[{"a":1}]}"#.utf8))
            #expect(predict.status == 404 && predict.text.contains("no features.json") && predict.text.contains("/v2/models/mixed/infer"), "\(predict.text)")

            func infer(_ inputs: String) throws -> HTTPTestClient.Response {
                try client.send("POST", "/v2/models/mixed/infer", body: Array(#"{"inputs":[\#(inputs)]}"#.utf8))
            }
            let x = #"{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}"#
            let mask = #"{"name":"mask","datatype":"BOOL","shape":[1,1],"data":[true]}"#
            let good = try infer(x + "," + #"{"name":"ids","datatype":"INT64","shape":[1,3],"data":[1,2,3]}"# + "," + mask)
            let outputs = try #require(good.json?["outputs"] as? [[String: Any]], "\(good.text)")
            #expect(good.status == 200 && outputs.map { $0["name"] as? String } == ["score", "shifted"])
            #expect(outputs[1]["data"] as? [Int] == [2, 3, 4] && outputs[1]["datatype"] as? String == "INT64" && outputs[1]["shape"] as? [Int] == [1, 3])

            let wrongType = try infer(x + "," + #"{"name":"ids","datatype":"INT32","shape":[1,3],"data":[1,2,3]}"# + "," + mask)
            #expect(wrongType.status == 400 && wrongType.text.contains(#"input \"ids\" must be INT64, got INT32"#), "\(wrongType.text)")
            let otherBatch = try infer(x + "," + #"{"name":"ids","datatype":"INT64","shape":[2,3],"data":[1,2,3,4,5,6]}"# + "," + mask)
            #expect(otherBatch.status == 400 && otherBatch.text.contains(#"\"ids\""#) && otherBatch.text.contains("batch size 1"), "\(otherBatch.text)")
            let missing = try infer(x + "," + mask)
            #expect(missing.status == 400 && missing.text.contains(#"missing input \"ids\""#), "\(missing.text)")
            let fixed = try client.send("POST", "/v2/models/fixed/infer",
                                        body: Array(#"{"inputs":[{"name":"a","datatype":"FP32","shape":[3,2],"data":[1,2,3,4,5,6]}]}"#.utf8))
            #expect(fixed.status == 400 && fixed.text.contains(#"\"a\""#) && fixed.text.contains("[2,3]"), "\(fixed.text)")
        }
    }

    @Test("Triton's batching rule: a fixed first dimension gives max_batch_size 0, full dims and no dynamic batching")
    func configuration() async throws {
        try await Self.withServer { port in
            let client = HTTPTestClient(port: port)
            let fixed = try #require(try client.send("GET", "/v2/models/fixed/config").json)
            #expect(fixed["max_batch_size"] as? Int == 0 && fixed["dynamic_batching"] == nil)
            #expect((fixed["input"] as? [[String: Any]])?.first?["dims"] as? [Int] == [2, 3])
            #expect((fixed["output"] as? [[String: Any]])?.map { $0["dims"] as? [Int] } == [[2, 3], [3]])
            let perFeature = try #require(try client.send("GET", "/v2/models/per_feature/config").json)
            #expect(perFeature["max_batch_size"] as? Int == 1000 && perFeature["dynamic_batching"] != nil)
            let input = try #require((perFeature["input"] as? [[String: Any]])?.first)
            #expect(input["dims"] as? [Int] == [1] && (input["reshape"] as? [String: [Int]])?["shape"] == [])
            let metadata = try #require(try client.send("GET", "/v2/models/types").json)
            #expect((metadata["inputs"] as? [[String: Any]])?.map { $0["datatype"] as? String } == ["FP16", "FP64", "INT8", "UINT8", "INT32"])
        }
    }
}

/// The module boundary of docs/ARCHITECTURE.md: only CTRServing talks to ONNX Runtime; the front ends do not.
@Suite("module boundary")
struct ModuleBoundaryTests {
    @Test("CTRServer neither depends on nor imports ONNXRuntime")
    func serverDoesNotImportONNXRuntime() throws {
        let root = ServeProcess.packageRoot
        let manifest = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        // The target declaration, `name: "CTRServer",` followed by its dependencies (the product has none).
        let declaration = try #require(manifest.firstRange(of: #/name: "CTRServer",\s*dependencies:/#))
        let end = try #require(manifest[declaration.upperBound...].range(of: "swiftSettings"))
        let target = manifest[declaration.upperBound..<end.lowerBound]
        #expect(target.contains("CTRServing") && !target.contains("ONNXRuntime"), "\(target)")
        let sources = root + "/Sources/CTRServer"
        let files = try #require(FileManager.default.enumerator(atPath: sources)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 20)
        let importing = try files.filter { file in
            try String(contentsOfFile: sources + "/" + file, encoding: .utf8).split(separator: "\n").contains { $0.contains("import ONNXRuntime") }
        }
        #expect(importing.isEmpty, "\(importing)")
    }
}
