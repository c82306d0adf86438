/// A model input or output as v2 model metadata describes it.
public struct TensorMetadata: Sendable, Equatable {
    /// The tensor's name.
    public var name: String
    /// Its element type.
    public var datatype: InferDatatype
    /// Its dimensions; -1 marks a variable one (e.g. the batch).
    public var shape: [Int64]

    /// Creates a tensor description.
    public init(name: String, datatype: InferDatatype, shape: [Int64]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }

    /// Appends `{"name":...,"datatype":...,"shape":[...]}`.
    func encode(into output: inout [UInt8]) {
        JSONWriter.appendRaw("{\"name\":", to: &output)
        JSONWriter.appendString(name, to: &output)
        JSONWriter.appendRaw(",\"datatype\":", to: &output)
        JSONWriter.appendString(datatype.rawValue, to: &output)
        JSONWriter.appendRaw(",\"shape\":[", to: &output)
        for (i, dimension) in shape.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendInteger(dimension, to: &output)
        }
        JSONWriter.appendRaw("]}", to: &output)
    }
}
