/// The v2 server metadata response (`GET /v2`).
public struct ServerMetadata: Sendable, Equatable {
    /// The server's name.
    public var name: String
    /// The server's version.
    public var version: String
    /// The protocol extensions supported; `binary_tensor_data` tells clients binary tensors work.
    public var extensions: [String]

    /// Creates server metadata.
    public init(name: String = "clickwise", version: String, extensions: [String] = ["binary_tensor_data"]) {
        self.name = name
        self.version = version
        self.extensions = extensions
    }

    /// Appends the JSON object `{"name","version","extensions"}`.
    public func encode(into output: inout [UInt8]) {
        JSONWriter.appendRaw("{\"name\":", to: &output)
        JSONWriter.appendString(name, to: &output)
        JSONWriter.appendRaw(",\"version\":", to: &output)
        JSONWriter.appendString(version, to: &output)
        JSONWriter.appendRaw(",\"extensions\":[", to: &output)
        for (i, item) in extensions.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(item, to: &output)
        }
        JSONWriter.appendRaw("]}", to: &output)
    }
}
