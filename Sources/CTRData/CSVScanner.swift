#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The byte-level engine behind ``CSVReader``: reads big chunks and splits RFC 4180 records into fields.
///
/// One scanner is one pass over one file. It owns the file descriptor, the chunk buffer and the field
/// bounds, and releases them in `deinit`. Not thread-safe; a pass belongs to one thread.
///
/// A record is parsed only when it lies whole in the buffer: when the data runs out mid-record the
/// scanner moves the partial record to the front (growing the buffer if it already fills it), reads
/// more and parses the record again from its start. Parsing never writes to the buffer, so a re-parse
/// sees the same bytes; only an accepted record has its `""` escapes collapsed, in place.
final class CSVScanner {
    let path: String
    let separator: UInt8
    private let fd: Int32
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var atEOF = false
    private let statsBox: StatsBox

    /// The field count every record must have; set once the header (or the given names) is known.
    var expectedFieldCount = 0
    // The current record, valid until the next `advance()`.
    private(set) var lineNumber = 0
    private(set) var fieldCount = 0
    private var bounds: UnsafeMutablePointer<Int>
    private var boundsCapacity: Int
    /// Fields of the record being parsed whose content holds `""` escapes; rare, so a list beats a flag per field.
    private var escapedFields: [Int] = []
    /// The physical line on which the next record starts.
    private var nextLine = 1

    private static let quote = UInt8(ascii: "\"")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    private let separatorMask: UInt64
    private static let lfMask = UInt64(lf) &* 0x0101_0101_0101_0101
    private static let quoteMask = UInt64(quote) &* 0x0101_0101_0101_0101

    /// Opens `path`; the error says whether it is missing or unreadable.
    init(path: String, separator: UInt8, bufferSize: Int, statsBox: StatsBox) throws(CTRDataError) {
        self.fd = try CriteoScanner.openForReading(path)
        self.path = path
        self.separator = separator
        self.separatorMask = UInt64(separator) &* 0x0101_0101_0101_0101
        self.capacity = max(bufferSize, 4)
        self.buffer = .allocate(byteCount: capacity, alignment: 16)
        self.boundsCapacity = 64
        self.bounds = .allocate(capacity: 2 * boundsCapacity)
        self.statsBox = statsBox
        statsBox.stats = ReadStats()
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)  // a hint only; failure changes nothing
        #endif
        skipByteOrderMark()
    }

    deinit {
        close(fd)
        buffer.deallocate()
        bounds.deallocate()
    }

    var view: CSVRowView {
        CSVRowView(lineNumber: lineNumber, columnCount: fieldCount, base: UnsafeRawPointer(buffer), bounds: bounds)
    }

    /// Reads the first non-blank record as the header; throws if there is none or it is malformed.
    func readHeader() throws(CTRDataError) -> [String] {
        while true {
            let outcome = parseRecord()
            if let error = statsBox.stats.ioError { throw error }
            switch outcome {
            case .needMore:
                refill()
            case .end:
                throw CTRDataError(.invalidHeader, path: path, detail: "the file is empty: expected a header row")
            case .blank(let next):
                consumeBlank(next)
            case .malformed(_, _, let reason):
                throw CTRDataError(.invalidHeader, path: path, detail: "line \(nextLine): \(reason.text(recordLine: nextLine))")
            case .record(let next, let lines):
                if fieldCount > boundsCapacity {
                    growBounds(to: fieldCount)
                    continue  // parse the same bytes again, keeping every name
                }
                accept(next, lines)
                let row = view
                return (0..<fieldCount).map { row.string($0) ?? "" }
            }
        }
    }

    /// Moves to the next well-formed record; false at the end of the file or after an I/O error.
    func advance() -> Bool {
        if boundsCapacity < expectedFieldCount { growBounds(to: expectedFieldCount) }
        while true {
            switch parseRecord() {
            case .needMore:
                refill()
            case .end:
                return false
            case .blank(let next):
                consumeBlank(next)
            case .malformed(let next, let lines, let reason):
                let recordLine = nextLine
                consume(next, lines)
                reject(recordLine, reason)
            case .record(let next, let lines):
                guard fieldCount == expectedFieldCount else {
                    let recordLine = nextLine
                    consume(next, lines)
                    reject(recordLine, .fieldCount(expected: expectedFieldCount, found: fieldCount))
                    continue
                }
                accept(next, lines)
                statsBox.stats.rowsRead += 1
                return true
            }
        }
    }

    // MARK: - Records

    /// Why a record was skipped; turned into text only for the few that keep their reason.
    enum MalformedReason {
        case fieldCount(expected: Int, found: Int)
        case unterminatedQuote(column: Int, lineOffset: Int)
        case quoteInUnquotedField(column: Int)
        case textAfterClosingQuote(column: Int)

        func text(recordLine: Int) -> String {
            switch self {
            case .fieldCount(let expected, let found):
                return "expected \(expected) fields, found \(found)"
            case .unterminatedQuote(let column, let lineOffset):
                return "unterminated quoted field in column \(column) (opened on line \(recordLine + lineOffset)), at the end of the file"
            case .quoteInUnquotedField(let column):
                return "a quote in the middle of unquoted field \(column)"
            case .textAfterClosingQuote(let column):
                return "text after the closing quote of field \(column)"
            }
        }
    }

    private enum Outcome {
        /// A whole record ends before `next`, spanning `lines` physical lines; its fields are in `bounds`.
        case record(next: Int, lines: Int)
        case blank(next: Int)
        case malformed(next: Int, lines: Int, reason: MalformedReason)
        /// The record is not complete in the buffer: read more and parse it again.
        case needMore
        case end
    }

    /// Parses the record at `start` without consuming it or writing to the buffer.
    private func parseRecord() -> Outcome {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        var p = start
        guard p < end else { return atEOF ? .end : .needMore }
        if bytes[p] == Self.lf { return .blank(next: p + 1) }
        if bytes[p] == Self.cr {
            if p + 1 < end {
                if bytes[p + 1] == Self.lf { return .blank(next: p + 2) }
            } else if !atEOF {
                return .needMore
            } else {
                return .blank(next: p + 1)
            }
        }
        escapedFields.removeAll(keepingCapacity: true)
        var field = 0
        var newlines = 0  // inside quoted fields so far
        while true {
            if p < end && bytes[p] == Self.quote {
                let openedAt = newlines
                let contentStart = p + 1
                var q = contentStart
                var escaped = false
                var contentEnd = 0
                while true {
                    let hit = nextSpecial(from: q, Self.quoteMask, Self.lfMask, Self.lfMask)
                    guard hit < end else {
                        guard atEOF else { return .needMore }
                        let lines = bytes[end - 1] == Self.lf ? newlines : newlines + 1
                        return .malformed(next: end, lines: lines,
                                          reason: .unterminatedQuote(column: field + 1, lineOffset: openedAt))
                    }
                    if bytes[hit] == Self.lf {
                        newlines += 1
                        q = hit + 1
                        continue
                    }
                    if hit + 1 < end {
                        if bytes[hit + 1] == Self.quote {
                            escaped = true
                            q = hit + 2
                            continue
                        }
                    } else if !atEOF {
                        return .needMore  // the next byte decides between `""` and a closing quote
                    }
                    contentEnd = hit
                    p = hit + 1
                    break
                }
                store(field, contentStart, contentEnd)
                if escaped { escapedFields.append(field) }
                field += 1
                guard p < end else {
                    guard atEOF else { return .needMore }
                    return finish(field, next: end, lines: newlines + 1)
                }
                let b = bytes[p]
                if b == separator {
                    p += 1
                    continue
                }
                if b == Self.lf { return finish(field, next: p + 1, lines: newlines + 1) }
                if b == Self.cr {
                    if p + 1 < end {
                        if bytes[p + 1] == Self.lf { return finish(field, next: p + 2, lines: newlines + 1) }
                    } else if !atEOF {
                        return .needMore
                    } else {
                        return finish(field, next: end, lines: newlines + 1)
                    }
                }
                return skipLine(from: p, newlines: newlines, reason: .textAfterClosingQuote(column: field))
            }
            let fieldStart = p
            let hit = nextSpecial(from: p, separatorMask, Self.lfMask, Self.quoteMask)
            guard hit < end else {
                guard atEOF else { return .needMore }
                var fieldEnd = end  // the last record has no newline
                if fieldEnd > fieldStart && bytes[fieldEnd - 1] == Self.cr { fieldEnd -= 1 }
                store(field, fieldStart, fieldEnd)
                return finish(field + 1, next: end, lines: newlines + 1)
            }
            let b = bytes[hit]
            if b == separator {
                store(field, fieldStart, hit)
                field += 1
                p = hit + 1
                continue
            }
            if b == Self.lf {
                var fieldEnd = hit
                if fieldEnd > fieldStart && bytes[fieldEnd - 1] == Self.cr { fieldEnd -= 1 }
                store(field, fieldStart, fieldEnd)
                return finish(field + 1, next: hit + 1, lines: newlines + 1)
            }
            return skipLine(from: hit, newlines: newlines, reason: .quoteInUnquotedField(column: field + 1))
        }
    }

    @inline(__always)
    private func finish(_ fields: Int, next: Int, lines: Int) -> Outcome {
        fieldCount = fields
        return .record(next: next, lines: lines)
    }

    @inline(__always)
    private func store(_ field: Int, _ s: Int, _ e: Int) {
        if field < boundsCapacity {
            bounds[2 * field] = s
            bounds[2 * field + 1] = e
        }
    }

    /// A malformed record ends at the end of the physical line where the fault is (quotes no longer count).
    private func skipLine(from p: Int, newlines: Int, reason: MalformedReason) -> Outcome {
        if p < end, let newline = memchr(buffer + p, Int32(Self.lf), end - p) {
            return .malformed(next: buffer.distance(to: newline) + 1, lines: newlines + 1, reason: reason)
        }
        guard atEOF else { return .needMore }
        return .malformed(next: end, lines: newlines + 1, reason: reason)
    }

    /// The first byte at or after `i` equal to one of the three masks' byte, or `end`.
    ///
    /// Eight bytes at a time with an exact per-byte zero test (no false positives from borrows).
    @inline(__always)
    private func nextSpecial(from i: Int, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> Int {
        var i = i
        while i + 8 <= end {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let x = word ^ a, y = word ^ b, z = word ^ c
            let hits = ~(((x & Self.low7) &+ Self.low7) | x | Self.low7)
                | ~(((y & Self.low7) &+ Self.low7) | y | Self.low7)
                | ~(((z & Self.low7) &+ Self.low7) | z | Self.low7)
            if hits != 0 { return i + hits.trailingZeroBitCount >> 3 }
            i += 8
        }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        let a = UInt8(truncatingIfNeeded: a), b = UInt8(truncatingIfNeeded: b), c = UInt8(truncatingIfNeeded: c)
        while i < end {
            let byte = bytes[i]
            if byte == a || byte == b || byte == c { return i }
            i += 1
        }
        return end
    }

    // MARK: - Consuming

    private func consume(_ next: Int, _ lines: Int) {
        start = next
        statsBox.stats.linesRead += lines
        nextLine += lines
    }

    private func consumeBlank(_ next: Int) {
        consume(next, 1)
        statsBox.stats.blankLineCount += 1
    }

    /// Makes the parsed record current and collapses its `""` escapes in place (the bytes are never parsed again).
    private func accept(_ next: Int, _ lines: Int) {
        lineNumber = nextLine
        consume(next, lines)
        guard !escapedFields.isEmpty else { return }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        for field in escapedFields where field < boundsCapacity {
            // Inside quotes every quote is the first of a `""` pair: keep it, drop its twin.
            var r = bounds[2 * field], w = r
            let e = bounds[2 * field + 1]
            while r < e {
                let byte = bytes[r]
                bytes[w] = byte
                w += 1
                r += byte == Self.quote ? 2 : 1
            }
            bounds[2 * field + 1] = w
        }
    }

    private func reject(_ recordLine: Int, _ reason: MalformedReason) {
        statsBox.stats.malformedCount += 1
        if statsBox.stats.malformedSamples.count < ReadStats.sampleLimit {
            statsBox.stats.malformedSamples.append(.init(lineNumber: recordLine, reason: reason.text(recordLine: recordLine)))
        }
    }

    // MARK: - Buffer

    /// Skips a UTF-8 byte order mark at the start of the file.
    private func skipByteOrderMark() {
        while end - start < 3 && !atEOF { refill() }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        if end - start >= 3 && bytes[start] == 0xEF && bytes[start + 1] == 0xBB && bytes[start + 2] == 0xBF {
            start += 3
        }
    }

    /// Keeps only the unconsumed bytes, at the front, and appends one read (growing the buffer if it is full).
    private func refill() {
        if start > 0 {
            let partial = end - start
            if partial > 0 { memmove(buffer, buffer + start, partial) }
            end = partial
            start = 0
        }
        if end == capacity { grow() }
        fill()
    }

    private func grow() {
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
        bigger.copyMemory(from: buffer, byteCount: end)
        buffer.deallocate()
        buffer = bigger
        capacity *= 2
    }

    private func growBounds(to fields: Int) {
        bounds.deallocate()
        boundsCapacity = max(fields, 2 * boundsCapacity)
        bounds = .allocate(capacity: 2 * boundsCapacity)
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
                                                  detail: "after line \(nextLine - 1): \(CriteoScanner.reason(errno))")
            atEOF = true
            start = end  // drop the partial record: it cannot be trusted
            return
        }
    }
}
