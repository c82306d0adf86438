extension InferredSchema {
    /// The schema as a FuxiCTR `dataset_config.yaml`: one dataset, one flow-style line per feature with its reason.
    ///
    /// `trainData` is written as given: pass the data file's path relative to the output file's
    /// directory (``relativePath(of:from:)``), as FuxiCTR resolves it from there.
    public func datasetConfigYAML(datasetID: String, trainData: String) -> String {
        var lines: [String] = []
        lines.append("# written by clickwise schema infer from \(Self.comment(dataPath)) (\(sampledRows) rows sampled); review before training")
        if readStats.malformedCount > 0 {
            let first = readStats.malformedSamples.first.map { "; first: \($0)" } ?? ""
            lines.append("# \(readStats.malformedCount) malformed records skipped in the sample\(Self.comment(first))")
        }
        lines.append("\(Self.scalar(datasetID)):")
        lines.append("  data_format: csv")
        lines.append("  sep: \(Self.quoted(String(decoding: [separator], as: UTF8.self)))")
        lines.append("  train_data: \(Self.scalar(trainData))")
        if let label {
            lines.append("  label_col: {name: \(Self.scalar(label.name)), dtype: float}")
        }
        lines.append("  min_categr_count: 1")
        let entries = features.map { feature -> (String, String) in
            var keys = ["name: \(Self.scalar(feature.name))", "active: \(feature.active)",
                        "dtype: \(feature.dtype)", "type: \(feature.kind.rawValue)"]
            if let normalizer = feature.normalizer { keys.append("normalizer: \(Self.scalar(normalizer))") }
            if let splitter = feature.splitter { keys.append("splitter: \(Self.quoted(splitter))") }
            if let maxLength = feature.maxLength { keys.append("max_len: \(maxLength)") }
            if feature.kind == .sequence { keys.append("padding: pre") }
            return ("    - {" + keys.joined(separator: ", ") + "}", Self.comment(feature.reason))
        }
        if entries.isEmpty {
            lines.append("  feature_cols: []")
        } else {
            lines.append("  feature_cols:")
            // Line the reasons up, except after an unusually long entry.
            let width = entries.map(\.0.count).filter { $0 <= 100 }.max() ?? 0
            for (entry, reason) in entries {
                let padding = String(repeating: " ", count: max(width - entry.count, 0))
                lines.append("\(entry)\(padding)  # \(reason)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `file` relative to `directory`, both absolute and normalized (no `.`, `..` or doubled slashes).
    public static func relativePath(of file: String, from directory: String) -> String {
        let fileParts = file.split(separator: "/", omittingEmptySubsequences: true)
        let directoryParts = directory.split(separator: "/", omittingEmptySubsequences: true)
        var common = 0
        while common < min(fileParts.count - 1, directoryParts.count) && fileParts[common] == directoryParts[common] {
            common += 1
        }
        let up = Array(repeating: "..", count: directoryParts.count - common)
        return (up + fileParts[common...].map(String.init)).joined(separator: "/")
    }

    /// A YAML scalar, plain when that reads back as the same string, else double-quoted.
    static func scalar(_ text: String) -> String {
        let plain = text.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } ?? false
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-./".contains($0)) }
            && !["true", "false", "yes", "no", "on", "off", "y", "n", "null"].contains(text.lowercased())
        return plain ? text : quoted(text)
    }

    /// A double-quoted YAML scalar with `\`, `"` and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Text safe inside a YAML comment: one line.
    private static func comment(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
