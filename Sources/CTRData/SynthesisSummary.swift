/// What ``SyntheticCriteo/write(rows:to:truthPath:)`` wrote, for the CLI to print.
public struct SynthesisSummary: Sendable, Equatable, CustomStringConvertible {
    /// The seed the rows were drawn with.
    public var seed: UInt64
    /// Rows written.
    public var rows: Int
    /// Rows with label 1.
    public var clicks: Int
    /// Mean of the true click probabilities.
    public var meanProbability: Double
    /// The TSV file.
    public var dataPath: String
    /// The file with one true probability per line.
    public var truthPath: String

    /// Creates a summary.
    public init(seed: UInt64, rows: Int, clicks: Int, meanProbability: Double, dataPath: String, truthPath: String) {
        self.seed = seed
        self.rows = rows
        self.clicks = clicks
        self.meanProbability = meanProbability
        self.dataPath = dataPath
        self.truthPath = truthPath
    }

    /// Two lines: the data file with its click rate, and the truth file.
    public var description: String {
        let rate = rows > 0 ? Double(clicks) / Double(rows) : 0
        return """
            wrote \(rows) rows to \(dataPath) (seed \(seed), \(clicks) clicks = \(Self.percent(rate)), \
            mean true CTR \(Self.percent(meanProbability)))
            wrote \(rows) true click probabilities to \(truthPath)
            """
    }

    private static func percent(_ x: Double) -> String {
        let tenths = Int((x * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
