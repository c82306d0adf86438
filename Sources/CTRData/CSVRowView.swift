/// One CSV record seen directly in the reader's buffer: no String is made unless asked for.
///
/// Valid only inside the ``CSVReader/forEachRow(limit:_:)`` callback that received it; its byte
/// pointers dangle afterwards, so never store it or its buffers.
public struct CSVRowView {
    /// One-based physical line on which this record starts (a quoted field may carry it onto later lines).
    public let lineNumber: Int
    /// The number of fields, the same as the header's.
    public let columnCount: Int
    private let base: UnsafeRawPointer
    private let bounds: UnsafePointer<Int>

    init(lineNumber: Int, columnCount: Int, base: UnsafeRawPointer, bounds: UnsafeMutablePointer<Int>) {
        self.lineNumber = lineNumber
        self.columnCount = columnCount
        self.base = base
        self.bounds = UnsafePointer(bounds)
    }

    /// The UTF-8 bytes of field `column`, unquoted and unescaped, or nil when the field is empty (missing).
    @inline(__always)
    public func field(_ column: Int) -> UnsafeRawBufferPointer? {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        let start = bounds[2 * column], end = bounds[2 * column + 1]
        guard end > start else { return nil }
        return UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    /// Field `column` as a String, or nil when empty; allocates.
    public func string(_ column: Int) -> String? {
        field(column).map { String(decoding: $0, as: UTF8.self) }
    }
}
