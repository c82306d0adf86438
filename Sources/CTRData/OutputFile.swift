#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write-only file with a large byte buffer and typed errors, for generating big TSV files quickly.
///
/// Noncopyable: it owns its descriptor and buffer. ``close()`` reports errors; dropping the value
/// without `close()` releases both silently (and loses unflushed bytes).
struct OutputFile: ~Copyable {
    let path: String
    private var fd: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private var count = 0
    private static let capacity = 1 << 20
    /// Room kept free so one row can always be appended before the next flush check.
    private static let flushThreshold = capacity - (64 << 10)

    /// Creates or truncates `path`.
    init(path: String) throws(CTRDataError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CTRDataError(.writeFailed, path: path, detail: String(cString: strerror(errno)))
        }
        self.path = path
        self.fd = fd
        buffer = .allocate(capacity: Self.capacity)
    }

    deinit {
        if fd >= 0 { _ = systemClose(fd) }
        buffer.deallocate()
    }

    /// Appends one byte; callers keep each row under 64 KiB between ``flushIfFull()`` calls.
    @inline(__always)
    mutating func append(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    /// Appends a signed decimal integer.
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var i = count + digits - 1
        repeat {
            buffer[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            i -= 1
        } while magnitude > 0
        count += digits
    }

    /// Appends a 32-bit code as 8 lowercase hex characters.
    @inline(__always)
    mutating func appendHex(_ code: UInt32) {
        for i in 0..<8 {
            let nibble = UInt8(truncatingIfNeeded: code >> UInt32(28 - 4 * i)) & 0xF
            buffer[count + i] = nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
        }
        count += 8
    }

    /// Appends a probability in [0, 1] with 8 decimals, e.g. "0.25000000".
    mutating func appendProbability(_ p: Double) {
        let scaled = UInt64((min(max(p, 0), 1) * 1e8).rounded())
        append(UInt8(ascii: "0") + UInt8(scaled / 100_000_000))
        append(UInt8(ascii: "."))
        var fraction = scaled % 100_000_000
        for i in stride(from: 7, through: 0, by: -1) {
            buffer[count + i] = UInt8(ascii: "0") + UInt8(fraction % 10)
            fraction /= 10
        }
        count += 8
    }

    /// Writes the buffer out once it is nearly full.
    @inline(__always)
    mutating func flushIfFull() throws(CTRDataError) {
        if count >= Self.flushThreshold { try flush() }
    }

    /// Writes everything buffered so far.
    mutating func flush() throws(CTRDataError) {
        var written = 0
        while written < count {
            let n = systemWrite(fd, buffer + written, count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw CTRDataError(.writeFailed, path: path, detail: String(cString: strerror(errno)))
            }
            written += n
        }
        count = 0
    }

    /// Flushes and closes, reporting any error (a full disk often shows up only here).
    consuming func close() throws(CTRDataError) {
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
