#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming reader of CSV or TSV with a header row (RFC 4180): memory stays flat however large the file.
///
/// Fields may be quoted with `"`; inside quotes `""` is one quote and the separator, CR and LF are
/// data, so a record may span lines (line numbers still count physical lines). CRLF and LF line ends,
/// a missing final newline and a UTF-8 byte order mark are accepted; blank lines are skipped (so a
/// one-column file cannot hold an empty record). An empty field, quoted or not, is a missing value.
///
/// A record with a field count other than the header's, an unterminated quoted field at the end of
/// the file, a quote in the middle of an unquoted field or text after a closing quote is skipped and
/// counted in ``ReadStats``, the first few with line number and reason. A bad header throws.
///
/// Each pass (``forEachRow(limit:_:)``) reopens the file; ``stats`` describes the most recently started
/// pass. Not `Sendable`: use one reader per thread.
public struct CSVReader {
    /// The file being read.
    public let path: String
    /// The byte between fields, such as `,` or a tab.
    public let separator: UInt8
    /// Whether the file's first record is the header.
    public let hasHeader: Bool
    /// The column names, from the header or the caller.
    public let header: [String]
    /// Bytes read per system call; records longer than this still work (the buffer grows).
    public var chunkSize = 4 << 20
    private let columns: [String: Int]
    private let statsBox = StatsBox()

    /// Reads and checks the header; the error names the file and says what is wrong.
    ///
    /// With `hasHeader` the first non-blank record names the columns and `columnNames` must be nil;
    /// without it `columnNames` gives the names and every record is data.
    public init(path: String, separator: UInt8 = UInt8(ascii: ","), hasHeader: Bool = true,
                columnNames: [String]? = nil) throws(CTRDataError) {
        guard separator != UInt8(ascii: "\""), separator != UInt8(ascii: "\n"), separator != UInt8(ascii: "\r") else {
            throw CTRDataError(.invalidArgument, path: path, detail: "the separator cannot be a quote, CR or LF")
        }
        let names: [String]
        if hasHeader {
            guard columnNames == nil else {
                throw CTRDataError(.invalidArgument, path: path, detail: "column names given for a file that has a header row")
            }
            // A small first buffer: only the header is read here.
            let scanner = try CSVScanner(path: path, separator: separator, bufferSize: 64 << 10, statsBox: StatsBox())
            names = try scanner.readHeader()
        } else {
            guard let columnNames else {
                throw CTRDataError(.invalidArgument, path: path, detail: "a file without a header row needs column names")
            }
            close(try CriteoScanner.openForReading(path))  // each pass reopens; this only checks access up front
            names = columnNames
        }
        self.columns = try Self.index(names, path: path)
        self.path = path
        self.separator = separator
        self.hasHeader = hasHeader
        self.header = names
    }

    /// The index of the column called `name`, or nil when the header has no such column.
    public func column(named name: String) -> Int? {
        columns[name]
    }

    /// Statistics of the most recently started pass (rows, malformed records with reasons, I/O error).
    public var stats: ReadStats { statsBox.stats }

    /// Calls `body` with each well-formed record, at most `limit` of them, without making Strings; the fast path.
    ///
    /// The ``CSVRowView`` is valid only during the call. Throws if the file cannot be reopened, its
    /// header has changed since `init`, or a read fails.
    @discardableResult
    public func forEachRow(limit: Int = .max, _ body: (CSVRowView) -> Void) throws(CTRDataError) -> ReadStats {
        let scanner = try CSVScanner(path: path, separator: separator, bufferSize: chunkSize, statsBox: statsBox)
        if hasHeader {
            guard try scanner.readHeader() == header else {
                throw CTRDataError(.invalidHeader, path: path, detail: "the header changed since the reader was created")
            }
        }
        scanner.expectedFieldCount = header.count
        var delivered = 0
        while delivered < limit, scanner.advance() {
            body(scanner.view)
            delivered += 1
        }
        if let error = statsBox.stats.ioError { throw error }
        return statsBox.stats
    }

    /// Maps names to indices, refusing repeated names.
    ///
    /// A column with an empty name is kept but cannot be asked for: pandas writes its index column so
    /// (`,a,b`), and a trailing separator on every line (`a,b,`) makes one at the end. A name with spaces
    /// around it (`clk, user_id`) is found by its trimmed name too, unless another column has that name.
    private static func index(_ names: [String], path: String) throws(CTRDataError) -> [String: Int] {
        guard names.contains(where: { !$0.isEmpty }) else { throw CTRDataError(.invalidHeader, path: path, detail: "no column names") }
        var columns: [String: Int] = [:]
        for (i, name) in names.enumerated() where !name.isEmpty {
            if let first = columns[name] {
                throw CTRDataError(.invalidHeader, path: path,
                                   detail: "column \"\(name)\" appears twice (columns \(first + 1) and \(i + 1))")
            }
            columns[name] = i
        }
        for (i, name) in names.enumerated() {
            let trimmed = trimmedName(name)
            if trimmed != name, !trimmed.isEmpty, columns[trimmed] == nil { columns[trimmed] = i }
        }
        return columns
    }

    /// A header name without the spaces and tabs around it.
    static func trimmedName(_ name: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = name.firstIndex(where: { !blank($0) }), let last = name.lastIndex(where: { !blank($0) }) else { return "" }
        return String(name[first...last])
    }
}
