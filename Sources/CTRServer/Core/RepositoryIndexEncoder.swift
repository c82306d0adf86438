/// Triton's repository index response: a bare array `[{"name","version","state","reason"}]`.
enum RepositoryIndexEncoder {
    static func encode(_ entries: [InferenceCore.IndexEntry], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendRaw("{\"name\":", to: &out)
            JSONWriter.appendString(entry.name, to: &out)
            JSONWriter.appendRaw(",\"version\":", to: &out)
            JSONWriter.appendString(entry.version, to: &out)
            JSONWriter.appendRaw(",\"state\":", to: &out)
            JSONWriter.appendString(entry.state, to: &out)
            JSONWriter.appendRaw(",\"reason\":", to: &out)
            JSONWriter.appendString(entry.reason, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }
}
