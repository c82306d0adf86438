/// A node attribute of the kinds the exporter uses (ONNX `AttributeProto`).
public enum ONNXAttribute: Sendable {
    /// INT attribute.
    case int(String, Int)
    /// INTS attribute.
    case ints(String, [Int])
    /// FLOAT attribute.
    case float(String, Float)

    /// Encodes the `AttributeProto` fields (name = 1, f = 2, i = 3, ints = 8, type = 20).
    func encode(into writer: inout ProtobufWriter) {
        switch self {
        case let .int(name, value):
            writer.string(1, name)
            writer.int(3, Int64(value))
            writer.int(20, 2)
        case let .ints(name, values):
            writer.string(1, name)
            writer.packedInts(8, values.map(Int64.init))
            writer.int(20, 7)
        case let .float(name, value):
            writer.string(1, name)
            writer.float(2, value)
            writer.int(20, 1)
        }
    }
}
