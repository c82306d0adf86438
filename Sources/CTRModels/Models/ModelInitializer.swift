/// FuxiCTR's initial values for the embedding parts, shared by every architecture.
enum ModelInitializer {
    /// FuxiCTR's `embedding_initializer`: normal with std 1e-4.
    static let embeddingStd = 1e-4

    /// Embedding rows, dense-field vectors and dense buckets ~ N(0, 1e-4²).
    ///
    /// FuxiCTR would give the dense vectors Xavier init (they are `nn.Linear(1, d)`); dense inputs here
    /// are unbounded log-counts, so they start as small as the id embeddings to keep early logits sane.
    static func initialize(_ embedding: FieldEmbedding, using generator: inout SeededGenerator) {
        embedding.table.fillNormal(std: embeddingStd, using: &generator)
        embedding.denseEmbedding?.fillNormal(std: embeddingStd, using: &generator)
        embedding.bucketTable?.fillNormal(std: embeddingStd, using: &generator)
    }

    /// Linear weights ~ N(0, 1e-4²), bias 0.
    static func initialize(_ linear: LinearPart, using generator: inout SeededGenerator) {
        linear.table.fillNormal(std: embeddingStd, using: &generator)
        linear.denseWeight?.fillNormal(std: embeddingStd, using: &generator)
        linear.bucketTable?.fillNormal(std: embeddingStd, using: &generator)
        linear.bias.value.zero()
    }
}
