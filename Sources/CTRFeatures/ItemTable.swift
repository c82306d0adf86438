/// A table of items as text: the columns of an item CSV and its rows, before any bundle encodes it.
public struct ItemRows: Sendable, Equatable {
    /// The file the rows came from (named in errors).
    public var path: String
    /// Column names; the first is the key (the item id field).
    public var columns: [String]
    /// Each row's values by column; nil for an empty value.
    public var rows: [[String?]]
    /// Each row's one-based line number in its file.
    public var lines: [Int]

    /// Rows as read from `path`.
    public init(path: String, columns: [String], rows: [[String?]], lines: [Int]) {
        self.path = path
        self.columns = columns
        self.rows = rows
        self.lines = lines
    }
}

/// Why an item table cannot serve a bundle; the message names the file and, where one is at fault, the line
/// and column.
public struct ItemTableError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, starting with the file.
    public let message: String

    /// An error reading `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Items' fields by id, encoded once with one bundle's vocabulary (`serve --item-table`): a ranking candidate
/// that names only its id gets the other item fields from here, without parsing or encoding them per request.
///
/// The key is the table's first column, a categorical field of the bundle; every other column must be a field
/// of the bundle too. Keys are looked up by their raw bytes (a new item outside the training vocabulary still
/// has its own row), in the same frozen hash table the vocabulary uses. Immutable: a reloaded file is a new table.
public final class ItemTable: Sendable {
    /// The file the table was read from.
    public let path: String
    /// The key column (an item id field).
    public let key: String
    /// How many items the table holds.
    public let count: Int
    /// The categorical fields (model order indices) the table fills, the key aside.
    public let categoricalFields: [Int]
    /// The numeric fields (model order indices) the table fills.
    public let numericFields: [Int]
    /// The sequence fields (model order indices) the table fills.
    public let sequenceFields: [Int]
    /// Encoded ids, `count` rows of `categoricalFields.count`.
    public let ids: [Int64]
    /// Encoded numbers, `count` rows of `numericFields.count`.
    public let dense: [Float]
    /// Encoded sequence ids, `count` rows of the filled sequences' lengths laid end to end.
    public let sequenceIDs: [Int64]
    /// Width of one row of ``sequenceIDs``.
    public let sequenceWidth: Int
    /// The key field's index among the categorical fields.
    public let keyField: Int
    /// The rows as read (the prediction log writes a candidate's item fields as they were given).
    public let raw: ItemRows
    /// Each column's position in a ``raw`` row, by field name.
    public let rawColumns: [String: Int]
    private let index: VocabularyIndex

    /// Encodes `rows` with `encoder`'s vocabulary; the error names the file, line and column at fault.
    public init(_ rows: ItemRows, encoder: FeatureEncoder) throws(ItemTableError) {
        let schema = encoder.map.schema
        let path = rows.path
        guard let key = rows.columns.first else { throw ItemTableError("\(path): the header is empty; its first column must be the item id field") }
        let categorical = schema.categoricalFields.map(\.name), numeric = schema.numericFields.map(\.name)
        let sequence = schema.sequenceFields.map(\.name)
        guard let keyField = categorical.firstIndex(of: key) else {
            let hint = schema.fields.contains { $0.name == key } ? "is not a categorical field" : "is not a field of the model"
            throw ItemTableError("\(path): the key column \"\(key)\" (the first column) \(hint); the first column must be the item id field, e.g. \(categorical.first ?? "item_id")")
        }
        var seen: Set<String> = []
        var cat: [(field: Int, column: Int)] = [], num: [(field: Int, column: Int)] = [], seq: [(field: Int, column: Int)] = []
        for (column, name) in rows.columns.enumerated() {
            guard seen.insert(name).inserted else { throw ItemTableError("\(path): column \"\(name)\" appears twice in the header") }
            if column == 0 { continue }
            if let field = categorical.firstIndex(of: name) {
                cat.append((field, column))
            } else if let field = numeric.firstIndex(of: name) {
                num.append((field, column))
            } else if let field = sequence.firstIndex(of: name) {
                seq.append((field, column))
            } else if schema.label == name || schema.inactiveColumns.contains(name) {
                continue
            } else {
                throw ItemTableError("\(path): column \"\(name)\" is not a field of the model (its fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
            }
        }
        let lengths = encoder.sequenceLengths
        let width = seq.reduce(0) { $0 + lengths[$1.field] }
        var ids = [Int64](), dense = [Float](), sequenceIDs = [Int64](repeating: 0, count: rows.rows.count * width)
        ids.reserveCapacity(rows.rows.count * cat.count)
        dense.reserveCapacity(rows.rows.count * num.count)
        var keys: [String] = []
        keys.reserveCapacity(rows.rows.count)
        var firstLine: [String: Int] = [:]
        for (r, row) in rows.rows.enumerated() {
            let line = r < rows.lines.count ? rows.lines[r] : r + 2
            guard row.count == rows.columns.count else {
                throw ItemTableError("\(path):\(line): \(row.count) values for \(rows.columns.count) columns")
            }
            guard let id = row[0] else { throw ItemTableError("\(path):\(line): the key \(key) is empty") }
            if let earlier = firstLine.updateValue(line, forKey: id) {
                throw ItemTableError("\(path):\(line): item \"\(id)\" is listed twice (first on line \(earlier))")
            }
            keys.append(id)
            for (field, column) in cat { ids.append(encoder.categoricalID(field: field, string: row[column])) }
            for (field, column) in num {
                var value: Double?
                if let text = row[column] {
                    guard let parsed = Double(text), parsed.isFinite else {
                        throw ItemTableError("\(path):\(line): \(rows.columns[column]) \"\(text.prefix(40))\" is not a number")
                    }
                    value = parsed
                }
                dense.append(encoder.denseValue(field: field, raw: value))
            }
            var start = r * width
            for (field, column) in seq {
                sequenceIDs.withUnsafeMutableBufferPointer { out in
                    if var text = row[column] {
                        text.withUTF8 { encoder.encodeSequence(field: field, utf8: UnsafeRawBufferPointer($0), into: out.baseAddress! + start) }
                    } else {
                        encoder.encodeSequence(field: field, utf8: nil, into: out.baseAddress! + start)
                    }
                }
                start += lengths[field]
            }
        }
        guard keys.count <= VocabularyIndex.maxTotalSize - FeatureMap.firstVocabularyIndex else {
            throw ItemTableError("\(path): \(keys.count) items exceed the \(VocabularyIndex.maxTotalSize - FeatureMap.firstVocabularyIndex) a table holds")
        }
        self.path = path
        raw = rows
        rawColumns = Dictionary(rows.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.key = key
        self.keyField = keyField
        count = keys.count
        categoricalFields = cat.map(\.field)
        numericFields = num.map(\.field)
        sequenceFields = seq.map(\.field)
        self.ids = ids
        self.dense = dense
        self.sequenceIDs = sequenceIDs
        sequenceWidth = width
        index = VocabularyIndex(vocabularies: [keys], offsets: [0], totalSize: keys.count + FeatureMap.firstVocabularyIndex)
    }

    /// The row of the item whose key has these UTF-8 bytes, or nil for an unknown item.
    @inline(__always)
    public func row(key: UnsafeRawBufferPointer) -> Int? {
        index.globalID(field: 0, value: key).map { $0 - FeatureMap.firstVocabularyIndex }
    }

    /// The row of the item `key`, or nil for an unknown item.
    public func row(key: String) -> Int? {
        var text = key
        return text.withUTF8 { row(key: UnsafeRawBufferPointer($0)) }
    }
}
