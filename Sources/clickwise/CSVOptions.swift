import ArgumentParser

/// The options that say how a CSV file is split, shared by every command that reads one.
struct CSVOptions: ParsableArguments {
    @Option(name: .customLong("sep"), help: "The field separator: one ASCII character, or \\t / tab for a tab.")
    var separator: String = ","

    /// The separator as the byte the reader splits on.
    var separatorByte: UInt8 {
        get throws {
            switch separator {
            case "\\t", "tab", "\t": return UInt8(ascii: "\t")
            default:
                guard separator.utf8.count == 1, let byte = separator.utf8.first, byte < 0x80,
                      byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") else {
                    throw ValidationError("--sep must be one ASCII character other than a quote, CR or LF (or \\t), got \"\(separator)\".")
                }
                return byte
            }
        }
    }

    func validate() throws {
        _ = try separatorByte
    }
}
