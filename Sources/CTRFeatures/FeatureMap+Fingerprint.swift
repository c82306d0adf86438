/// The feature map's identity, recorded in features.json and in the exported model's metadata.
extension FeatureMap {
    /// SHA-256 (64 hex characters) of everything that changes encoding. Version 2: the schema's fields and
    /// inactive columns, the signature, numeric shifts and scales, the missing numeric input (when not 0),
    /// vocabularies in id order and sequence lengths. Version 1 (Criteo maps read from old files): format
    /// version, tensor names, field names, dense scales, the missing input (when not 0) and vocabularies,
    /// exactly as written then, so old bundles keep their fingerprints. `minCount` and `rowCount` are left
    /// out: two fits that encode identically share a fingerprint.
    ///
    /// Computed on each access (linear in the vocabulary size); keep the value if you need it often.
    public var fingerprint: String {
        if let releasedFingerprint { return releasedFingerprint }
        var sha = FingerprintHasher()
        // Length-prefixed, tab-free framing so no two different maps produce the same byte stream.
        func field(_ text: String) {
            sha.update(String(text.utf8.count))
            sha.update(":")
            sha.update(text)
        }
        func number(_ value: Double) { field(String(value.bitPattern, radix: 16)) }
        sha.update("clickwise.features/\(version)\n")
        if version == 1 {
            field(sparseInputName)
            field(denseInputName)
            field(outputName)
            for (name, scale) in zip(CriteoSchema.denseNames, denseScales) {
                field(name)
                number(scale)
            }
        } else {
            let text = JSONText()
            for entry in schemaEntry.fields { field(text.compactText(entry.encodingEntry)) }
            field(text.compactText(schema.inactiveColumns))
            let signature = SignatureEntry(self.signature)
            for tensor in signature.inputs + signature.outputs { field(text.compactText(tensor)) }
            for (name, (shift, scale)) in zip(schema.numericFields.map(\.name), zip(numericShifts, denseScales)) {
                field(name)
                number(shift)
                number(scale)
            }
            for length in sequenceLengths { field(String(length)) }
        }
        if denseMissingValue != 0 {
            field("denseMissingValue")
            number(denseMissingValue)
        }
        for (name, vocabulary) in zip(blockNames, vocabularies) {
            field(name)
            field(String(vocabulary.count))
            for value in vocabulary { field(value) }
        }
        return sha.finalizeHex()
    }
}
