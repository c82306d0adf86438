#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTRFeatures

/// A streaming reader of Criteo-format TSV: memory stays flat however large the file.
///
/// Layout per line: `label \t I1..I13 \t C1..C26` (no label column when `hasLabel` is false); an empty
/// field is a missing value; CRLF line ends and a missing final newline are accepted; blank lines are
/// skipped. A line with the wrong field count, a label other than `0`/`1`, or a non-integer (or
/// out-of-range) I field is skipped and counted in ``stats``, the first few with line number and reason.
///
/// Each pass (``makeIterator()`` or ``forEachRow(limit:_:)``) reopens the file; ``stats`` describes the
/// most recently started pass. Not `Sendable`: use one reader per thread.
public struct CriteoReader: Sequence {
    /// The file being read.
    public let path: String
    /// Whether each line starts with a label column.
    public let hasLabel: Bool
    /// Bytes read per system call; lines longer than this still work (the buffer grows).
    public var chunkSize = 4 << 20
    private let statsBox = StatsBox()

    /// Checks that the file can be opened; the error names the file and says why not.
    public init(path: String, hasLabel: Bool = true) throws(CTRDataError) {
        let fd = try CriteoScanner.openForReading(path)
        close(fd)  // each pass reopens; this only checks access up front
        self.path = path
        self.hasLabel = hasLabel
    }

    /// Statistics of the most recently started pass (rows, malformed lines with reasons, I/O error).
    public var stats: ReadStats { statsBox.stats }

    /// Yields each well-formed row as a ``RawRow``; one String per present categorical value.
    public struct Iterator: IteratorProtocol {
        private let scanner: CriteoScanner?
        private let statsBox: StatsBox

        init(scanner: CriteoScanner?, statsBox: StatsBox) {
            self.scanner = scanner
            self.statsBox = statsBox
        }

        /// The next well-formed row, or nil at the end of the file (or after an I/O error, see ``stats``).
        public mutating func next() -> RawRow? {
            guard let scanner, scanner.advance() else { return nil }
            return scanner.view.makeRawRow()
        }

        /// Statistics of this pass so far.
        public var stats: ReadStats { statsBox.stats }
    }

    /// Starts a pass; if the file has become unreadable since `init`, the pass is empty and ``stats`` says why.
    public func makeIterator() -> Iterator {
        do throws(CTRDataError) {
            let scanner = try CriteoScanner(path: path, hasLabel: hasLabel, bufferSize: chunkSize, statsBox: statsBox)
            return Iterator(scanner: scanner, statsBox: statsBox)
        } catch {
            statsBox.stats = ReadStats()
            statsBox.stats.ioError = error
            return Iterator(scanner: nil, statsBox: statsBox)
        }
    }

    /// Calls `body` with each well-formed row, at most `limit` rows, without making Strings; the fast path.
    ///
    /// The ``RowView`` is valid only during the call. Throws if the file cannot be reopened or a read fails.
    @discardableResult
    public func forEachRow(limit: Int = .max, _ body: (RowView) -> Void) throws(CTRDataError) -> ReadStats {
        let scanner = try CriteoScanner(path: path, hasLabel: hasLabel, bufferSize: chunkSize, statsBox: statsBox)
        var delivered = 0
        while delivered < limit, scanner.advance() {
            body(scanner.view)
            delivered += 1
        }
        if let error = statsBox.stats.ioError { throw error }
        return statsBox.stats
    }
}
