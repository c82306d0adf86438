/// Encodes the error body `{"error":"..."}` shared by the CTR API and KServe v2.
public enum ErrorResponseEncoder {
    /// Appends `{"error":"<message>"}` with the message escaped as a JSON string.
    public static func encode(message: String, into output: inout [UInt8]) {
        JSONWriter.appendRaw("{\"error\":", to: &output)
        JSONWriter.appendString(message, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// Appends `{"error":"<message>"}` for a decoding error.
    public static func encode(_ error: RequestDecodeError, into output: inout [UInt8]) {
        encode(message: error.message, into: &output)
    }
}
