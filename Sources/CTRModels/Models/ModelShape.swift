/// The input geometry a model is built for: the shared vocabulary and the field counts.
public struct ModelShape: Codable, Sendable, Equatable {
    /// Rows of the shared embedding table (global ids are below this).
    public var vocabularySize: Int
    /// Id columns per row (Criteo: 26).
    public var sparseFields: Int
    /// Dense columns per row (Criteo: 13).
    public var denseFields: Int

    /// Creates a shape.
    public init(vocabularySize: Int, sparseFields: Int = 26, denseFields: Int = 13) {
        self.vocabularySize = vocabularySize
        self.sparseFields = sparseFields
        self.denseFields = denseFields
    }
}
