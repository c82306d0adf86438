import CTRData
import CTRFeatures
import Foundation

/// An item CSV named by `serve --item-table`: read whole (a header naming the columns, the key first), and
/// re-read when the file changes.
public enum ItemTableFile {
    /// The file's identity and size at one moment: a different stamp means the file was rewritten.
    public struct Stamp: Sendable, Equatable {
        let modified: Date
        let size: Int
        let inode: Int
    }

    /// The stamp of `path` now, or nil when it cannot be read.
    public static func stamp(_ path: String) -> Stamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return nil }
        return Stamp(modified: modified, size: (attributes[.size] as? Int) ?? 0,
                     inode: (attributes[.systemFileNumber] as? Int) ?? 0)
    }

    /// Reads every row of `path` (comma-separated with a header row, or tab-separated when the name ends in .tsv);
    /// a malformed line fails the whole file, naming it.
    public static func read(_ path: String) throws(ItemTableError) -> ItemRows {
        let separator = path.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        let reader: CSVReader
        do {
            reader = try CSVReader(path: path, separator: separator)
        } catch {
            throw ItemTableError(error.description)
        }
        var rows: [[String?]] = [], lines: [Int] = []
        let stats: ReadStats
        do {
            stats = try reader.forEachRow { row in
                rows.append((0..<row.columnCount).map { row.string($0) })
                lines.append(row.lineNumber)
            }
        } catch {
            throw ItemTableError(error.description)
        }
        if let failure = stats.ioError { throw ItemTableError(failure.description) }
        if let bad = stats.malformedSamples.first { throw ItemTableError("\(path): \(bad)") }
        return ItemRows(path: path, columns: reader.header, rows: rows, lines: lines)
    }
}
