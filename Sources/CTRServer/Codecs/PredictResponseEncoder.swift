/// Encodes the CTR predict response `{"predictions":[0.0312,...]}` straight into bytes.
public enum PredictResponseEncoder {
    /// Appends `{"predictions":[...]}` for `predictions`, in order, each as shortest round-trip text.
    public static func encode(predictions: UnsafeBufferPointer<Float>, into output: inout [UInt8]) {
        // ~12 bytes a value ("0.031234567,"), reserved once so a reused buffer never grows mid-write.
        output.reserveCapacity(output.count + 20 + predictions.count * 14)
        JSONWriter.appendRaw("{\"predictions\":[", to: &output)
        for (i, value) in predictions.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendFloat(value, to: &output)
        }
        JSONWriter.appendRaw("]}", to: &output)
    }

    /// Appends `{"predictions":[...]}` for `predictions`.
    public static func encode(predictions: [Float], into output: inout [UInt8]) {
        predictions.withUnsafeBufferPointer { encode(predictions: $0, into: &output) }
    }
}
