/// What one pass over a Criteo file saw: rows delivered, lines skipped, and why the first few were skipped.
public struct ReadStats: Sendable, Equatable, CustomStringConvertible {
    /// A skipped line and the reason it was rejected.
    public struct MalformedLine: Sendable, Equatable, CustomStringConvertible {
        /// One-based line number in the file.
        public var lineNumber: Int
        /// Why the line was rejected, such as "expected 40 tab-separated fields, found 39".
        public var reason: String

        /// "line 17: <reason>".
        public var description: String { "line \(lineNumber): \(reason)" }
    }

    /// How many malformed lines keep their reason; the rest are only counted.
    public static let sampleLimit = 10

    /// Lines in the file, including blank and malformed ones.
    public var linesRead = 0
    /// Well-formed rows delivered to the caller.
    public var rowsRead = 0
    /// Lines skipped because they did not parse.
    public var malformedCount = 0
    /// Empty lines, skipped without being counted as malformed.
    public var blankLineCount = 0
    /// The first ``sampleLimit`` malformed lines with their reasons.
    public var malformedSamples: [MalformedLine] = []
    /// Set when reading stopped early because the operating system reported an error.
    public var ioError: CTRDataError?

    /// Creates empty statistics.
    public init() {}

    /// One summary line, with the first malformed lines when there are any.
    public var description: String {
        var text = "\(rowsRead) rows, \(malformedCount) malformed lines skipped"
        if !malformedSamples.isEmpty {
            text += " (" + malformedSamples.map(\.description).joined(separator: "; ")
            if malformedCount > malformedSamples.count { text += "; ..." }
            text += ")"
        }
        if let ioError { text += "; stopped early: \(ioError)" }
        return text
    }
}
