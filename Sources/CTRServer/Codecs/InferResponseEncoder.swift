import CTRServing
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
            appendBinary(UnsafeRawBufferPointer(values))
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

    /// Appends an output tensor given as little-endian element bytes of `datatype` (not BYTES); FP16 and
    /// BF16 go into JSON as the numbers they hold.
    public mutating func appendOutput(name: String, datatype: TensorElementType, shape: some Sequence<Int>, bytes: UnsafeRawBufferPointer, binary asBinary: Bool) {
        func typed<T: InferElement>(_: T.Type) {
            let count = bytes.count / MemoryLayout<T>.stride
            // Output buffers come from ONNX Runtime or a job, aligned to their element; copy if one is not.
            if Int(bitPattern: bytes.baseAddress) % MemoryLayout<T>.alignment == 0 {
                appendOutput(name: name, shape: shape, values: UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: T.self), count: count),
                             binary: asBinary)
            } else {
                appendOutput(name: name, shape: shape, values: (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self) },
                             binary: asBinary)
            }
        }
        switch datatype {
        case .fp32: typed(Float.self)
        case .fp64: typed(Double.self)
        case .int64: typed(Int64.self)
        case .int32: typed(Int32.self)
        case .int16: typed(Int16.self)
        case .int8: typed(Int8.self)
        case .uint64: typed(UInt64.self)
        case .uint32: typed(UInt32.self)
        case .uint16: typed(UInt16.self)
        case .uint8: typed(UInt8.self)
        case .bool:
            // ONNX stores BOOL as one byte 0/1, which is also the binary extension's form.
            typed(Bool.self)
        case .fp16, .bf16, .bytes:
            appendHeader(name: name, datatype: datatype, shape: shape)
            if asBinary || datatype == .bytes {
                appendBinary(bytes)
            } else {
                JSONWriter.appendRaw(",\"data\":[", to: &json)
                for index in 0..<(bytes.count / 2) {
                    if index > 0 { json.append(UInt8(ascii: ",")) }
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    JSONWriter.appendFloat(datatype == .bf16 ? Float(bitPattern: UInt32(bits) << 16) : Self.float(half: bits), to: &json)
                }
                JSONWriter.appendRaw("]}", to: &json)
            }
        }
    }

    /// An IEEE 754 half-precision value widened to Float (exact), without relying on `Float16`, which x86-64 lacks on some platforms.
    static func float(half bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1f)
        let mantissa = UInt32(bits & 0x3ff)
        switch exponent {
        case 0:
            // Subnormal (or zero): mantissa × 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
        }
    }

    /// Closes the JSON object.
    public mutating func finish() {
        JSONWriter.appendRaw("]}", to: &json)
    }

    /// Closes an output's header with its `binary_data_size` and queues its bytes after the JSON.
    private mutating func appendBinary(_ bytes: UnsafeRawBufferPointer) {
        JSONWriter.appendRaw(",\"parameters\":{\"binary_data_size\":", to: &json)
        JSONWriter.appendInteger(bytes.count, to: &json)
        JSONWriter.appendRaw("}}", to: &json)
        binary.append(contentsOf: bytes)
        hasBinaryOutput = true
    }

    private mutating func appendHeader(name: String, datatype: TensorElementType, shape: some Sequence<Int>) {
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
