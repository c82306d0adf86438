/// The feature map's identity, recorded in features.json and in the exported model's metadata.
extension FeatureMap {
    /// SHA-256 (64 hex characters) of everything that changes encoding: format version, tensor names,
    /// field names, dense scales, the missing-integer input (when not 0, so maps written before it existed keep
    /// their fingerprints) and vocabularies in id order. `minCount` and `rowCount` are left out:
    /// two fits that encode identically share a fingerprint.
    ///
    /// Computed on each access (linear in the vocabulary size); keep the value if you need it often.
    public var fingerprint: String {
        var sha = SHA256()
        // Length-prefixed, tab-free framing so no two different maps produce the same byte stream.
        func field(_ text: String) {
            sha.update(String(text.utf8.count))
            sha.update(":")
            sha.update(text)
        }
        sha.update("clickwise.features/\(Self.formatVersion)\n")
        field(sparseInputName)
        field(denseInputName)
        field(outputName)
        for (name, scale) in zip(CriteoSchema.denseNames, denseScales) {
            field(name)
            field(String(scale.bitPattern, radix: 16))
        }
        if denseMissingValue != 0 {
            field("denseMissingValue")
            field(String(denseMissingValue.bitPattern, radix: 16))
        }
        for (name, vocabulary) in zip(CriteoSchema.categoricalNames, vocabularies) {
            field(name)
            field(String(vocabulary.count))
            for value in vocabulary { field(value) }
        }
        return sha.finalizeHex()
    }
}
