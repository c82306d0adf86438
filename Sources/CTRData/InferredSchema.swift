/// The columns of one data file as ``SchemaInference`` read them from a sample, in file order.
public struct InferredSchema: Sendable, Equatable {
    /// The data file sampled.
    public var dataPath: String
    /// The file's field separator.
    public var separator: UInt8
    /// Well-formed records in the sample.
    public var sampledRows: Int
    /// What reading the sample saw, including malformed records that were skipped.
    public var readStats: ReadStats
    /// Every column of the header, the label included, in file order.
    public var columns: [InferredColumn]

    /// Creates a schema.
    public init(dataPath: String, separator: UInt8, sampledRows: Int, readStats: ReadStats, columns: [InferredColumn]) {
        self.dataPath = dataPath
        self.separator = separator
        self.sampledRows = sampledRows
        self.readStats = readStats
        self.columns = columns
    }

    /// The label column.
    public var label: InferredColumn? { columns.first { $0.kind == .label } }

    /// Every column except the label, in file order.
    public var features: [InferredColumn] { columns.filter { $0.kind != .label } }

    /// The column called `name`, if any.
    public subscript(name: String) -> InferredColumn? { columns.first { $0.name == name } }
}
