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

    /// Appends the ranking answer `{"scores":[...]}` (candidate order), with `"top":[{"index":i,"score":s},...]`,
    /// the `topK` best first (ties: the earlier candidate first), when `topK` is given.
    public static func encodeRank(scores: UnsafeBufferPointer<Float>, topK: Int?, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + 20 + scores.count * 14 + (topK ?? 0) * 40)
        JSONWriter.appendRaw("{\"scores\":[", to: &output)
        for (i, value) in scores.enumerated() {
            if i > 0 { output.append(UInt8(ascii: ",")) }
            JSONWriter.appendFloat(value, to: &output)
        }
        out: if let topK {
            JSONWriter.appendRaw("],\"top\":[", to: &output)
            guard !scores.isEmpty else { break out }
            let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            for (rank, index) in order.prefix(topK).enumerated() {
                if rank > 0 { output.append(UInt8(ascii: ",")) }
                JSONWriter.appendRaw("{\"index\":", to: &output)
                JSONWriter.appendInteger(index, to: &output)
                JSONWriter.appendRaw(",\"score\":", to: &output)
                JSONWriter.appendFloat(scores[index], to: &output)
                output.append(UInt8(ascii: "}"))
            }
        }
        JSONWriter.appendRaw("]}", to: &output)
    }

    /// Appends `{"predictions":[...]}` for `predictions`.
    public static func encode(predictions: [Float], into output: inout [UInt8]) {
        predictions.withUnsafeBufferPointer { encode(predictions: $0, into: &output) }
    }
}
