import Crypto

/// Incremental SHA-256 over text, hex out: the feature-map fingerprint's hash (swift-crypto underneath).
struct FingerprintHasher {
    private var sha = Crypto.SHA256()

    /// Feeds a string's UTF-8 bytes.
    mutating func update(_ text: String) {
        sha.update(data: Array(text.utf8))
    }

    /// The digest as 64 lowercase hex characters.
    func finalizeHex() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in sha.finalize() {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
