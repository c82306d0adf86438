#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write-only file with a large byte buffer and typed errors, for generating big TSV files quickly.
///
/// Owns its descriptor: ``close()`` reports errors; `deinit` closes silently if `close()` was skipped.
final class OutputFile {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let flushThreshold = 1 << 20

    /// Creates or truncates `path`.
    init(path: String) throws(CTRDataError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CTRDataError(.writeFailed, path: path, detail: String(cString: strerror(errno)))
        }
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        if fd >= 0 { _ = systemClose(fd) }
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        buffer.append(byte)
    }

    /// Appends a signed decimal integer.
    func appendDecimal(_ value: Int64) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(d[i]) }
        }
    }

    /// Appends a 32-bit code as 8 lowercase hex characters.
    func appendHex(_ code: UInt32) {
        for shift in stride(from: 28, through: 0, by: -4) {
            let nibble = UInt8((code >> UInt32(shift)) & 0xF)
            buffer.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }

    /// Appends a probability in [0, 1] with 8 decimals, e.g. "0.25000000".
    func appendProbability(_ p: Double) {
        let scaled = UInt64((min(max(p, 0), 1) * 1e8).rounded())
        buffer.append(UInt8(ascii: "0") + UInt8(scaled / 100_000_000))
        buffer.append(UInt8(ascii: "."))
        var fraction = scaled % 100_000_000
        var divisor: UInt64 = 10_000_000
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    /// Writes the buffer out once it has grown past the threshold.
    @inline(__always)
    func flushIfFull() throws(CTRDataError) {
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Writes everything buffered so far.
    func flush() throws(CTRDataError) {
        var written = 0
        while written < buffer.count {
            let n = buffer.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CTRDataError(.writeFailed, path: path, detail: String(cString: strerror(errno)))
            }
            written += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes, reporting any error (a full disk often shows up only here).
    func close() throws(CTRDataError) {
        try flush()
        let result = systemClose(fd)
        fd = -1
        if result != 0 {
            throw CTRDataError(.writeFailed, path: path, detail: String(cString: strerror(errno)))
        }
    }
}

// File-scope wrappers: inside OutputFile, `close` and `write` would name its own methods.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
