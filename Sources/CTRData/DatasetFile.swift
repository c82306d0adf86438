import CTRFeatures

/// One data file read by a dataset's schema: Criteo's header-less TSV through the fast ``CriteoReader``,
/// anything else through ``CSVReader`` with the declared columns found by name in the header.
///
/// Rows whose label or numbers do not parse are skipped and counted in the pass's ``ReadStats`` with
/// their line number and reason, like malformed lines. Each pass reopens the file; memory stays flat.
public struct DatasetFile {
    /// The file being read.
    public let path: String
    /// The dataset it belongs to.
    public let config: DatasetConfig
    /// Whether rows must carry a parseable label (training, evaluation) or may lack one (encoding).
    public let requiresLabel: Bool
    private let source: Source

    enum Source {
        case criteo(CriteoReader)
        case csv(CSVReader, ColumnMap)
    }

    /// Where each schema field sits in a CSV file's header.
    struct ColumnMap {
        var label: Int?
        var categorical: [Int]
        var numeric: [Int]
        var sequences: [Int]
    }

    /// Opens `path` and resolves the schema's columns; the error names the file and any missing column.
    public init(path: String, config: DatasetConfig, requiresLabel: Bool = true) throws(CTRDataError) {
        self.path = path
        self.config = config
        self.requiresLabel = requiresLabel
        if config.isCriteoLayout {
            source = .criteo(try CriteoReader(path: path, hasLabel: true))
            return
        }
        let reader = try CSVReader(path: path, separator: config.separator, hasHeader: config.columnNames == nil,
                                   columnNames: config.columnNames)
        func column(_ name: String, required: Bool) throws(CTRDataError) -> Int? {
            if let index = reader.column(named: name) { return index }
            guard required else { return nil }
            let shown = reader.header.prefix(20).joined(separator: ", ") + (reader.header.count > 20 ? ", ..." : "")
            throw CTRDataError(.columnNotFound, path: path,
                               detail: "\(name), declared in \(config.path), is not in the header (\(shown))")
        }
        let schema = config.schema
        var map = ColumnMap(label: try column(schema.label, required: requiresLabel), categorical: [], numeric: [], sequences: [])
        for field in schema.categoricalFields { map.categorical.append(try column(field.name, required: true)!) }
        for field in schema.numericFields { map.numeric.append(try column(field.name, required: true)!) }
        for field in schema.sequenceFields { map.sequences.append(try column(field.name, required: true)!) }
        source = .csv(reader, map)
    }

    /// Calls `body` with each well-formed row, at most `limit` rows, without making Strings.
    ///
    /// The ``DatasetRow`` is valid only during the call. Throws if the file cannot be reopened or a read fails.
    @discardableResult
    public func forEachRow(limit: Int = .max, _ body: (DatasetRow) -> Void) throws(CTRDataError) -> ReadStats {
        switch source {
        case .criteo(let reader):
            return try reader.forEachRow(limit: limit) { body(DatasetRow(criteo: $0)) }
        case .csv(let reader, let map):
            var rejected = ReadStats()
            var numbers = [Double](repeating: .nan, count: map.numeric.count)
            let requiresLabel = self.requiresLabel
            let names = config.schema.numericFields.map(\.name)
            // Rejected rows count toward `limit` too, so a limited pass never scans the rest of the file.
            var stats = try reader.forEachRow(limit: limit) { row in
                var label: Float?
                if let column = map.label, let bytes = row.field(column) {
                    // pandas and SQL exports write boolean labels as true/false.
                    guard let value = NumberText.parse(bytes) ?? BooleanText.parse(bytes), value >= 0, value <= 1 else {
                        rejected.reject(line: row.lineNumber, "label \(Self.shown(bytes)) is not a number in [0, 1] nor true/false")
                        return
                    }
                    label = Float(value)
                } else if requiresLabel {
                    rejected.reject(line: row.lineNumber, "the label is empty")
                    return
                }
                for (field, column) in map.numeric.enumerated() {
                    guard let bytes = row.field(column) else {
                        numbers[field] = .nan
                        continue
                    }
                    guard let value = NumberText.parse(bytes) else {
                        rejected.reject(line: row.lineNumber, "\(names[field]) \(Self.shown(bytes)) is not a number")
                        return
                    }
                    numbers[field] = value
                }
                numbers.withUnsafeBufferPointer { values in
                    body(DatasetRow(csv: row, map: map, label: label, numbers: values))
                }
            }
            stats.rowsRead -= rejected.malformedCount
            stats.malformedCount += rejected.malformedCount
            stats.malformedSamples = Array((stats.malformedSamples + rejected.malformedSamples)
                .sorted { $0.lineNumber < $1.lineNumber }.prefix(ReadStats.sampleLimit))
            return stats
        }
    }

    static func shown(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(40), as: UTF8.self)
        return "\"\(text)\(bytes.count > 40 ? "..." : "")\""
    }
}

/// One row of a ``DatasetFile`` seen in the reader's buffer; valid only inside the callback that received it.
public struct DatasetRow {
    private enum Storage {
        case criteo(RowView)
        case csv(CSVRowView, DatasetFile.ColumnMap, UnsafeBufferPointer<Double>)
    }

    private let storage: Storage
    /// One-based line number of the row in its file.
    public let lineNumber: Int
    /// The click label, or nil when the file's rows have none.
    public let label: Float?

    init(criteo row: RowView) {
        storage = .criteo(row)
        lineNumber = row.lineNumber
        label = row.label
    }

    init(csv row: CSVRowView, map: DatasetFile.ColumnMap, label: Float?, numbers: UnsafeBufferPointer<Double>) {
        storage = .csv(row, map, numbers)
        lineNumber = row.lineNumber
        self.label = label
    }

    /// Writes the row's model inputs straight from the bytes; `sequences` may be nil without sequence fields.
    @inline(__always)
    public func encode(with encoder: FeatureEncoder, ids: UnsafeMutablePointer<Int64>, dense: UnsafeMutablePointer<Float>,
                       sequences: UnsafeMutablePointer<Int64>?) {
        switch storage {
        case .criteo(let row):
            row.encode(with: encoder, ids: ids, dense: dense)
        case .csv(let row, let map, let numbers):
            for (field, column) in map.categorical.enumerated() {
                ids[field] = encoder.categoricalID(field: field, utf8: row.field(column))
            }
            for field in 0..<numbers.count {
                let value = numbers[field]
                dense[field] = encoder.denseValue(field: field, raw: value.isNaN ? nil : value)
            }
            guard let sequences else { return }
            for (field, column) in map.sequences.enumerated() {
                encoder.encodeSequence(field: field, utf8: row.field(column), into: sequences + encoder.sequenceStarts[field])
            }
        }
    }

    /// Feeds the row into a feature-map fit, straight from the bytes.
    public func add(to builder: inout FeatureMapBuilder) {
        switch storage {
        case .criteo(let row):
            row.add(to: &builder)
        case .csv(let row, let map, let numbers):
            for (field, column) in map.categorical.enumerated() { builder.addCategorical(field: field, utf8: row.field(column)) }
            for field in 0..<numbers.count {
                let value = numbers[field]
                builder.addDense(field: field, raw: value.isNaN ? nil : value)
            }
            for (field, column) in map.sequences.enumerated() { builder.addSequence(field: field, utf8: row.field(column)) }
            builder.finishRow()
        }
    }

    /// A standalone copy of the row by kind in schema order (allocates; for tools and tests).
    public func makeRawRow() -> RawRow {
        switch storage {
        case .criteo(let row):
            return row.makeRawRow()
        case .csv(let row, let map, let numbers):
            return RawRow(label: label, dense: numbers.map { $0.isNaN ? nil : $0 },
                          categorical: map.categorical.map { row.string($0) }, sequences: map.sequences.map { row.string($0) })
        }
    }
}

extension ReadStats {
    /// Counts one rejected line, keeping its reason among the first few.
    mutating func reject(line: Int, _ reason: String) {
        malformedCount += 1
        if malformedSamples.count < Self.sampleLimit { malformedSamples.append(.init(lineNumber: line, reason: reason)) }
    }
}
