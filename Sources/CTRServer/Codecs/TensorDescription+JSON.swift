import CTRServing

extension TensorDescription {
    /// Appends the v2 model metadata's `{"name":...,"datatype":...,"shape":[...]}`.
    func encode(into output: inout [UInt8]) {
        JSONWriter.appendRaw("{\"name\":", to: &output)
        JSONWriter.appendString(name, to: &output)
        JSONWriter.appendRaw(",\"datatype\":", to: &output)
        JSONWriter.appendString(elementType.rawValue, to: &output)
        JSONWriter.appendRaw(",\"shape\":[", to: &output)
        for (i, dimension) in shape.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendInteger(dimension, to: &output)
        }
        JSONWriter.appendRaw("]}", to: &output)
    }
}
