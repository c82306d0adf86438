/// Builds a v2 infer response: a JSON header, then the raw bytes of any binary outputs.
///
/// Reusable: `reset` keeps the buffers, so a long-lived encoder stops allocating after warm-up. The
/// JSON and the binary tail are kept apart so the HTTP layer can write both without joining them;
/// when `headerLength` is non-nil it must send it as `Inference-Header-Content-Length` (the body is
/// `json` followed by `binary`, see `body()`).
///
/// Usage: `begin(...)`, `appendOutput(...)` once per output in order, `finish()`.
public struct InferResponseEncoder: Sendable {
    /// The JSON response object (complete after `finish()`).
    public private(set) var json: [UInt8] = []
    /// The binary outputs' bytes, in output order, to follow the JSON.
    public private(set) var binary: [UInt8] = []
    private var outputCount = 0
    private var hasBinaryOutput = false

    /// Creates an encoder with empty buffers.
    public init() {}

    /// The JSON length to send as `Inference-Header-Content-Length`, or nil when no output is binary.
    public var headerLength: Int? { hasBinaryOutput ? json.count : nil }

    /// The whole HTTP body: the JSON followed by the binary outputs (copies; prefer writing both parts).
    public func body() -> [UInt8] { json + binary }

    /// Clears the buffers, keeping their capacity.
    public mutating func reset() {
        json.removeAll(keepingCapacity: true)
        binary.removeAll(keepingCapacity: true)
        outputCount = 0
        hasBinaryOutput = false
    }

    /// Starts a response for `modelName`; `id` echoes the request's id when it had one.
    public mutating func begin(modelName: String, modelVersion: String?, id: String?) {
        reset()
        JSONWriter.appendRaw("{\"model_name\":", to: &json)
        JSONWriter.appendString(modelName, to: &json)
        if let modelVersion {
            JSONWriter.appendRaw(",\"model_version\":", to: &json)
            JSONWriter.appendString(modelVersion, to: &json)
        }
        if let id {
            JSONWriter.appendRaw(",\"id\":", to: &json)
            JSONWriter.appendString(id, to: &json)
        }
        JSONWriter.appendRaw(",\"outputs\":[", to: &json)
    }

    /// Appends an output tensor as JSON `data` or, when `binary`, as `binary_data_size` plus raw bytes.
    public mutating func appendOutput<Element: InferElement>(
        name: String, shape: some Sequence<Int>, values: UnsafeBufferPointer<Element>, binary asBinary: Bool
    ) {
        appendHeader(name: name, datatype: Element.inferDatatype, shape: shape)
        if asBinary {
            // Little-endian on every platform Swift serves from (x86-64, arm64): raw memory is the wire form.
            let bytes = UnsafeRawBufferPointer(values)
            JSONWriter.appendRaw(",\"parameters\":{\"binary_data_size\":", to: &json)
            JSONWriter.appendInteger(bytes.count, to: &json)
            JSONWriter.appendRaw("}}", to: &json)
            binary.append(contentsOf: bytes)
            hasBinaryOutput = true
        } else {
            json.reserveCapacity(json.count + 16 + values.count * 14)
            JSONWriter.appendRaw(",\"data\":[", to: &json)
            for (i, value) in values.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                value.appendJSON(to: &json)
            }
            JSONWriter.appendRaw("]}", to: &json)
        }
    }

    /// Appends an output tensor from an array.
    public mutating func appendOutput<Element: InferElement>(
        name: String, shape: some Sequence<Int>, values: [Element], binary asBinary: Bool
    ) {
        values.withUnsafeBufferPointer { appendOutput(name: name, shape: shape, values: $0, binary: asBinary) }
    }

    /// Closes the JSON object.
    public mutating func finish() {
        JSONWriter.appendRaw("]}", to: &json)
    }

    private mutating func appendHeader(name: String, datatype: InferDatatype, shape: some Sequence<Int>) {
        if outputCount > 0 { json.append(UInt8(ascii: ",")) }
        outputCount += 1
        JSONWriter.appendRaw("{\"name\":", to: &json)
        JSONWriter.appendString(name, to: &json)
        JSONWriter.appendRaw(",\"datatype\":\"", to: &json)
        var type = datatype.rawValue
        type.withUTF8 { json.append(contentsOf: $0) }
        JSONWriter.appendRaw("\",\"shape\":[", to: &json)
        for (i, dimension) in shape.enumerated() {
            if i > 0 { json.append(UInt8(ascii: ",")) }
            JSONWriter.appendInteger(dimension, to: &json)
        }
        json.append(UInt8(ascii: "]"))
    }
}
