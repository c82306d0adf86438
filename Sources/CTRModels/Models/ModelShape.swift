/// The input geometry a model is built for: the shared vocabulary, the field counts and how dense fields are embedded.
public struct ModelShape: Codable, Sendable, Equatable {
    /// Rows of the shared embedding table (global ids are below this).
    public var vocabularySize: Int
    /// Id columns per row (Criteo: 26).
    public var sparseFields: Int
    /// Dense columns per row (Criteo: 13).
    public var denseFields: Int
    /// When set, each dense field is embedded per bucket; nil: FuxiCTR's numeric `value × vector` embedding.
    public var denseBuckets: DenseBuckets?

    /// Creates a shape.
    public init(vocabularySize: Int, sparseFields: Int = 26, denseFields: Int = 13, denseBuckets: DenseBuckets? = nil) {
        precondition(denseBuckets.map { $0.scales.count == denseFields } ?? true, "one bucket scale per dense field")
        self.vocabularySize = vocabularySize
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.denseBuckets = denseBuckets
    }
}
