#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTRFeatures

/// The byte-level engine behind ``CriteoReader``: reads big chunks, splits lines and fields, parses integers.
///
/// One scanner is one pass over one file. It owns the file descriptor and the chunk buffer and
/// releases both in `deinit`. Not thread-safe; a pass belongs to one thread.
final class CriteoScanner {
    let path: String
    let hasLabel: Bool
    let fieldCount: Int
    private let fd: Int32
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var atEOF = false
    private let statsBox: StatsBox

    // The current row, valid until the next `advance()`.
    private(set) var lineNumber = 0
    private(set) var label: Float?
    let bounds: UnsafeMutablePointer<Int>
    let denseValues: UnsafeMutablePointer<Int64>
    let densePresent: UnsafeMutablePointer<Bool>

    /// Opens `path`; the error says whether it is missing or unreadable.
    init(path: String, hasLabel: Bool, bufferSize: Int, statsBox: StatsBox) throws(CTRDataError) {
        self.fd = try Self.openForReading(path)
        self.path = path
        self.hasLabel = hasLabel
        self.fieldCount = (hasLabel ? 1 : 0) + CriteoSchema.denseCount + CriteoSchema.categoricalCount
        self.capacity = max(bufferSize, 64)
        self.buffer = .allocate(byteCount: capacity, alignment: 16)
        self.bounds = .allocate(capacity: 2 * fieldCount)
        self.denseValues = .allocate(capacity: CriteoSchema.denseCount)
        self.densePresent = .allocate(capacity: CriteoSchema.denseCount)
        self.statsBox = statsBox
        statsBox.stats = ReadStats()
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)  // a hint only; failure changes nothing
        #endif
    }

    deinit {
        close(fd)
        buffer.deallocate()
        bounds.deallocate()
        denseValues.deallocate()
        densePresent.deallocate()
    }

    /// Opens a file for reading or explains why it cannot be read.
    static func openForReading(_ path: String) throws(CTRDataError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw CTRDataError(code == ENOENT ? .fileNotFound : .unreadable, path: path, detail: Self.reason(code))
        }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw CTRDataError(.unreadable, path: path, detail: "is a directory")
        }
        return fd
    }

    static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    var view: RowView {
        RowView(lineNumber: lineNumber, label: label, base: UnsafeRawPointer(buffer), bounds: bounds,
                denseValues: denseValues, densePresent: densePresent,
                firstCategorical: (hasLabel ? 1 : 0) + CriteoSchema.denseCount)
    }

    /// Moves to the next well-formed row; false at the end of the file or after an I/O error.
    func advance() -> Bool {
        while let (lineStart, rawEnd) = nextLine() {
            lineNumber += 1
            statsBox.stats.linesRead += 1
            var lineEnd = rawEnd
            if lineEnd > lineStart && buffer.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                lineEnd -= 1  // CRLF files
            }
            if lineEnd == lineStart {
                statsBox.stats.blankLineCount += 1
                continue
            }
            if parse(lineStart, lineEnd) {
                statsBox.stats.rowsRead += 1
                return true
            }
        }
        return false
    }

    /// The next line's byte range in `buffer` without its newline, reading more of the file as needed.
    private func nextLine() -> (Int, Int)? {
        var searchFrom = start
        while true {
            if searchFrom < end, let newline = memchr(buffer + searchFrom, Int32(UInt8(ascii: "\n")), end - searchFrom) {
                let lineStart = start
                let lineEnd = buffer.distance(to: newline)
                start = lineEnd + 1
                return (lineStart, lineEnd)
            }
            if atEOF {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                return (lineStart, end)  // last line without a trailing newline
            }
            searchFrom = end
            if start > 0 {
                // Keep only the partial line, at the front, so reads always append.
                let partial = end - start
                if partial > 0 { memmove(buffer, buffer + start, partial) }
                searchFrom -= start
                end = partial
                start = 0
            }
            if end == capacity { grow() }
            fill()
        }
    }

    private func grow() {
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
        bigger.copyMemory(from: buffer, byteCount: end)
        buffer.deallocate()
        buffer = bigger
        capacity *= 2
    }

    private func fill() {
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 {
                end += n
                return
            }
            if n == 0 {
                atEOF = true
                return
            }
            if errno == EINTR { continue }
            statsBox.stats.ioError = CTRDataError(.readFailed, path: path,
                                                  detail: "after line \(lineNumber): \(Self.reason(errno))")
            atEOF = true
            start = end  // drop the partial line: it cannot be trusted
            return
        }
    }

    /// Splits and checks one line; on failure counts it as malformed and returns false.
    private func parse(_ lineStart: Int, _ lineEnd: Int) -> Bool {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        var field = 0
        var fieldStart = lineStart
        var i = lineStart
        // Eight bytes at a time: an exact per-byte "is tab" mask (no false positives from borrows).
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        while i + 8 <= lineEnd {
            let x = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ 0x0909_0909_0909_0909
            var tabs = ~(((x & low7) &+ low7) | x | low7)
            while tabs != 0 {
                let tab = i + tabs.trailingZeroBitCount >> 3
                if field < fieldCount {
                    bounds[2 * field] = fieldStart
                    bounds[2 * field + 1] = tab
                }
                field += 1
                fieldStart = tab + 1
                tabs &= tabs &- 1
            }
            i += 8
        }
        while i < lineEnd {
            if bytes[i] == UInt8(ascii: "\t") {
                if field < fieldCount {
                    bounds[2 * field] = fieldStart
                    bounds[2 * field + 1] = i
                }
                field += 1
                fieldStart = i + 1
            }
            i += 1
        }
        if field < fieldCount {
            bounds[2 * field] = fieldStart
            bounds[2 * field + 1] = lineEnd
        }
        field += 1
        guard field == fieldCount else {
            return reject("expected \(fieldCount) tab-separated fields, found \(field)")
        }
        var next = 0
        if hasLabel {
            let s = bounds[0], e = bounds[1]
            if e - s == 1 && (bytes[s] == UInt8(ascii: "0") || bytes[s] == UInt8(ascii: "1")) {
                label = bytes[s] == UInt8(ascii: "1") ? 1 : 0
            } else {
                return reject("label is \(quoted(s, e)), expected 0 or 1")
            }
            next = 1
        } else {
            label = nil
        }
        for d in 0..<CriteoSchema.denseCount {
            let s = bounds[2 * (next + d)], e = bounds[2 * (next + d) + 1]
            if s == e {
                densePresent[d] = false
                continue
            }
            guard let value = parseInteger(bytes, s, e) else {
                return reject("\(CriteoSchema.denseNames[d]) is \(quoted(s, e)), expected an integer")
            }
            denseValues[d] = value
            densePresent[d] = true
        }
        return true
    }

    /// Parses an optionally signed decimal integer, rejecting anything else and overflow.
    @inline(__always)
    private func parseInteger(_ bytes: UnsafeMutablePointer<UInt8>, _ s: Int, _ e: Int) -> Int64? {
        var i = s
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
            guard i < e else { return nil }
        }
        var value: Int64 = 0
        while i < e {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
            i += 1
        }
        return negative ? -value : value
    }

    private func reject(_ reason: @autoclosure () -> String) -> Bool {
        statsBox.stats.malformedCount += 1
        if statsBox.stats.malformedSamples.count < ReadStats.sampleLimit {
            statsBox.stats.malformedSamples.append(.init(lineNumber: lineNumber, reason: reason()))
        }
        return false
    }

    /// A field's bytes in quotes for an error message, shortened when long.
    private func quoted(_ s: Int, _ e: Int) -> String {
        let shown = min(e - s, 24)
        let text = String(decoding: UnsafeRawBufferPointer(start: buffer + s, count: shown), as: UTF8.self)
        return "\"\(text)\(e - s > shown ? "..." : "")\""
    }
}

/// Where a scanner leaves its statistics so the reader that started the pass can report them.
final class StatsBox {
    var stats = ReadStats()
}
