import CTRServing

/// The v2 model metadata response (`GET /v2/models/{name}`).
public struct ModelMetadata: Sendable, Equatable {
    /// The model's name.
    public var name: String
    /// The versions available, newest last.
    public var versions: [String]
    /// The backend platform; ONNX Runtime models are `onnxruntime_onnx`, as Triton names them.
    public var platform: String
    /// The model's inputs.
    public var inputs: [TensorDescription]
    /// The model's outputs.
    public var outputs: [TensorDescription]

    /// Creates model metadata.
    public init(name: String, versions: [String], platform: String = "onnxruntime_onnx", inputs: [TensorDescription], outputs: [TensorDescription]) {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Appends the JSON object `{"name","versions","platform","inputs","outputs"}`.
    public func encode(into output: inout [UInt8]) {
        JSONWriter.appendRaw("{\"name\":", to: &output)
        JSONWriter.appendString(name, to: &output)
        JSONWriter.appendRaw(",\"versions\":[", to: &output)
        for (i, version) in versions.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(version, to: &output)
        }
        JSONWriter.appendRaw("],\"platform\":", to: &output)
        JSONWriter.appendString(platform, to: &output)
        JSONWriter.appendRaw(",\"inputs\":[", to: &output)
        for (i, tensor) in inputs.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            tensor.encode(into: &output)
        }
        JSONWriter.appendRaw("],\"outputs\":[", to: &output)
        for (i, tensor) in outputs.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            tensor.encode(into: &output)
        }
        JSONWriter.appendRaw("]}", to: &output)
    }
}
