import CTRFeatures

/// Carries a trained model's weights into a new model over a feature map that extends the parent's
/// (``FeatureMapBuilder/build(extending:)``): the same architecture and settings, more ids.
enum WarmStart {
    /// Copies every dense weight of `parent` into `model`, and each embedding row of a value the parent knew to that
    /// value's row in `map` (blocks grow, so a block's rows move by how much the blocks before it grew); rows of new
    /// values keep `model`'s fresh initialization.
    static func transfer(from parent: any CTRModel, parentMap: FeatureMap, to model: any CTRModel, map: FeatureMap) throws(CTRModelsError) {
        let parentParameters = parent.parameters, parameters = model.parameters
        guard parentParameters.count == parameters.count else {
            throw .mismatch("--warm-start: the parent has \(parentParameters.count) weight tensors, the new model \(parameters.count)")
        }
        for (old, new) in zip(parentParameters, parameters) {
            guard old.count == new.count else { throw .mismatch("--warm-start: weight \(new.name) has \(new.count) values, the parent's \(old.count)") }
            new.value.pointer.update(from: old.value.pointer, count: old.count)
        }
        let parentTables = parent.embeddingTables, tables = model.embeddingTables
        guard parentTables.count == tables.count else { throw .mismatch("--warm-start: the parent has \(parentTables.count) embedding tables, the new model \(tables.count)") }
        let oldOffsets = parentMap.fieldOffsets, newOffsets = map.fieldOffsets, oldSizes = parentMap.fieldVocabularySizes
        for (old, new) in zip(parentTables, tables) {
            guard old.dimension == new.dimension else { throw .mismatch("--warm-start: table \(new.name) is \(new.dimension) wide, the parent's \(old.dimension)") }
            if old.rows == new.rows && old.rows != parentMap.totalVocabularySize {
                // A table not indexed by ids (dense buckets): the same rows.
                new.value.pointer.update(from: old.value.pointer, count: old.value.count)
                continue
            }
            guard old.rows == parentMap.totalVocabularySize, new.rows == map.totalVocabularySize else {
                throw .mismatch("--warm-start: table \(new.name) has \(new.rows) rows; the parent's \(old.rows) do not map onto them")
            }
            // Each block: the parent's rows (its out-of-vocabulary and missing rows, then its values) keep their order.
            for block in oldOffsets.indices {
                new.row(newOffsets[block]).update(from: old.row(oldOffsets[block]), count: oldSizes[block] * old.dimension)
            }
        }
    }
}
