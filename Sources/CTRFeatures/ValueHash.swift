/// A fast 64-bit hash of a categorical value's UTF-8 bytes, seeded per field.
///
/// Not persisted anywhere (tables are rebuilt from the strings at load), so it may change between
/// versions. Criteo values are 8 hex characters, which this hashes as one 64-bit word.
enum ValueHash {
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = bytes.count
        var h = (seed &+ 0x9E37_79B9_7F4A_7C15) ^ (UInt64(truncatingIfNeeded: count) &* 0xBF58_476D_1CE4_E5B9)
        guard let base = bytes.baseAddress else { return finalize(h) }
        var i = 0
        while i + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            h = (h ^ word) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
            i += 8
        }
        if i < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < count {
                tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
        }
        return finalize(h)
    }

    /// The SplitMix64 finalizer: every input bit affects every output bit.
    @inline(__always)
    static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Packs a value of up to 8 bytes into a word, zero-padded; callers keep the length apart, so "a" and "a\0" differ.
    @inline(__always)
    static func packedWord(_ value: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = value.baseAddress else { return 0 }
        if value.count == 8 { return UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)) }
        var word: UInt64 = 0
        for i in 0..<value.count {
            word |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 * i)
        }
        return word
    }
}
