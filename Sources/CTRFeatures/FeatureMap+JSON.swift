import Foundation

/// features.json as written to disk: fixed key order (scalars first, vocabularies last), two-space
/// indentation, one vocabulary value per line, so the same map always gives the same bytes and diffs
/// of committed bundles stay readable. Foundation's `JSONEncoder` orders keys by hash or alphabetically.
extension FeatureMap {
    /// The pretty-printed features.json bytes, ending in a newline; `JSONDecoder` reads them back.
    public func jsonBytes() -> [UInt8] {
        precondition(hasVocabularyValues, "features.json needs the vocabulary values this map released")
        return version == 1 ? version1Bytes() : version2Bytes()
    }

    private func version2Bytes() -> [UInt8] {
        var out = JSONText()
        out.line("{")
        out.pair("formatVersion", version, indent: 1)
        if encoding == .fuxictr { out.pair("encoding", quoted: encoding.rawValue, indent: 1) }
        out.pair("fingerprint", quoted: fingerprint, indent: 1)
        out.pair("minCount", minCount, indent: 1)
        out.pair("rowCount", rowCount, indent: 1)
        out.line("  \"schema\" : {")
        out.pair("datasetId", quoted: schema.datasetID, indent: 2)
        out.pair("label", quoted: schema.label, indent: 2)
        out.pair("minCount", schema.minCount, indent: 2)
        out.text("    \"inactiveColumns\" : ")
        out.compact(schema.inactiveColumns)
        out.line(",")
        out.line("    \"fields\" : [")
        for (i, field) in schema.fields.enumerated() {
            out.text("      ")
            out.compact(FieldEntry(field))
            out.line(i + 1 < schema.fields.count ? "," : "")
        }
        out.line("    ]")
        out.line("  },")
        out.text("  \"dataLayout\" : ")
        out.compact(dataLayout)
        out.line(",")
        out.line("  \"signature\" : {")
        let signature = SignatureEntry(self.signature)
        for (key, tensors, last) in [("inputs", signature.inputs, false), ("outputs", signature.outputs, true)] {
            out.line("    \"\(key)\" : [")
            for (i, tensor) in tensors.enumerated() {
                out.text("      ")
                out.compact(tensor)
                out.line(i + 1 < tensors.count ? "," : "")
            }
            out.line(last ? "    ]" : "    ],")
        }
        out.line("  },")
        out.pair("idScheme", quoted: idSchemeText, indent: 1)
        out.pair("denseTransform", quoted: encoding == .fuxictr ? Self.fuxictrNumericSummary : DenseTransform.summary, indent: 1)
        out.line("  \"denseMissingValue\" : \(denseMissingValue),")
        out.pair("totalVocabularySize", totalVocabularySize, indent: 1)
        for (key, entries) in [("numericFields", numericEntries.map { out.compactText($0) }),
                               ("sequenceFields", sequenceEntries.map { out.compactText($0) })] {
            out.line("  \"\(key)\" : [")
            for (i, entry) in entries.enumerated() {
                out.line("    " + entry + (i + 1 < entries.count ? "," : ""))
            }
            out.line("  ],")
        }
        writeBlocks(into: &out)
        return out.bytes
    }

    private func version1Bytes() -> [UInt8] {
        var out = JSONText()
        out.line("{")
        out.pair("formatVersion", 1, indent: 1)
        out.pair("fingerprint", quoted: fingerprint, indent: 1)
        out.pair("minCount", minCount, indent: 1)
        out.pair("rowCount", rowCount, indent: 1)
        out.line("  \"tensors\" : {")
        out.pair("sparseInput", quoted: sparseInputName, indent: 2)
        out.pair("denseInput", quoted: denseInputName, indent: 2)
        out.pair("output", quoted: outputName, indent: 2, last: true)
        out.line("  },")
        out.pair("idScheme", quoted: Self.version1IDSchemeSummary, indent: 1)
        out.pair("denseTransform", quoted: DenseTransform.summary, indent: 1)
        out.line("  \"denseMissingValue\" : \(denseMissingValue),")
        out.pair("totalVocabularySize", totalVocabularySize, indent: 1)
        out.line("  \"denseFields\" : [")
        for (field, scale) in denseScales.enumerated() {
            out.text("    { \"name\" : ")
            out.string(CriteoSchema.denseNames[field])
            out.text(", \"kind\" : \"dense\", \"scale\" : \(scale) }")
            out.line(field + 1 < denseScales.count ? "," : "")
        }
        out.line("  ],")
        writeBlocks(into: &out)
        return out.bytes
    }

    /// The vocabulary blocks, one object each, and the closing brace (both versions write them alike:
    /// version-1 maps are Criteo's, whose blocks are all categorical).
    private func writeBlocks(into out: inout JSONText) {
        let offsets = fieldOffsets, names = blockNames
        out.line("  \"categoricalFields\" : [")
        for (block, vocabulary) in vocabularies.enumerated() {
            let entry = blockEntry(block, name: names[block], offset: offsets[block], vocabulary: vocabulary)
            out.line("    {")
            out.pair("name", quoted: entry.name, indent: 3)
            out.pair("kind", quoted: entry.kind, indent: 3)
            out.pair("offset", entry.offset, indent: 3)
            out.pair("size", entry.size, indent: 3)
            out.pair("oovIndex", entry.oovIndex, indent: 3)
            if let missing = entry.missingIndex { out.pair("missingIndex", missing, indent: 3) }
            if let padding = entry.paddingIndex { out.pair("paddingIndex", padding, indent: 3) }
            out.vocabulary(vocabulary)
            out.line(block + 1 < vocabularies.count ? "    }," : "    }")
        }
        out.line("  ]")
        out.line("}")
    }
}

/// A minimal JSON text builder for ``FeatureMap/jsonBytes()``.
struct JSONText {
    var bytes: [UInt8] = []

    /// One value as single-line JSON with sorted keys (Foundation's encoder: small values, off the hot path).
    func compactText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    mutating func compact<T: Encodable>(_ value: T) {
        text(compactText(value))
    }

    mutating func vocabulary(_ vocabulary: [String]) {
        if vocabulary.isEmpty {
            line("      \"vocabulary\" : []")
        } else {
            line("      \"vocabulary\" : [")
            for (i, value) in vocabulary.enumerated() {
                text("        ")
                string(value)
                line(i + 1 < vocabulary.count ? "," : "")
            }
            line("      ]")
        }
    }

    mutating func text(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    mutating func line(_ s: String) {
        text(s)
        bytes.append(UInt8(ascii: "\n"))
    }

    mutating func pair(_ key: String, _ value: Int, indent: Int, last: Bool = false) {
        line(String(repeating: "  ", count: indent) + "\"\(key)\" : \(value)" + (last ? "" : ","))
    }

    mutating func pair(_ key: String, quoted value: String, indent: Int, last: Bool = false) {
        text(String(repeating: "  ", count: indent) + "\"\(key)\" : ")
        string(value)
        line(last ? "" : ",")
    }

    /// Appends a JSON string literal, escaping quotes, backslashes and control characters (RFC 8259).
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
