import CTRData
import Foundation

/// A random dataset for the data-path property test: a schema written as FuxiCTR's dataset_config.yaml, and a
/// training and a test file written as awkwardly as valid CSV allows, with every row's raw values kept so the
/// same rows can be sent to the server as JSON.
///
/// Everything is drawn from one seed. What it covers: each kind from zero to several fields, `dtype` int and
/// str/float, `fill_na`, both normalizers, `min_categr_count`, sequences with any splitter (one or two bytes),
/// `max_len` shorter and longer than the rows' sequences, both paddings, `share_embedding`, inactive and
/// unnamed columns (a pandas index, a trailing separator), separators `,` `;` and tab, quoted fields holding
/// the separator, quotes and line breaks, empty fields (quoted or not), CRLF, a UTF-8 BOM, no final newline,
/// header names with spaces around them and non-ASCII names, values of 1 to 3,000 bytes, numbers in every
/// notation (`+3`, `.5`, `5.`, `1.25e1`, `125E-1`, spaces around), labels as `0/1`, `0.0/1.0` or `true/false`,
/// and test rows holding values the training rows never had.
struct RandomDataset: CustomStringConvertible {
    enum Kind: Equatable { case categorical, numeric, sequence, inactive }

    struct Field {
        var name: String
        var kind: Kind
        var integer: Bool
        var yaml: String
        /// Values a categorical field (or a sequence's tokens) draws from; the test file adds unseen ones.
        var pool: [String]
        var splitter: String
        var maxLength: Int
    }

    /// One row's value of one field, as written to the file and as sent in JSON.
    enum Value {
        case missing
        case text(String)
        /// A number: its file text and its JSON text (the same value).
        case number(file: String, json: String)
        case tokens([String])
    }

    struct Row {
        var label: Int
        var values: [Value]
    }

    let seed: UInt64
    let fields: [Field]
    let labelName: String
    let separator: Character
    let yaml: String
    let trainRows: [Row]
    let testRows: [Row]
    private let style: FileStyle

    struct FileStyle {
        var crlf: Bool
        var bom: Bool
        var finalNewline: Bool
        var pandasIndex: Bool
        var trailingSeparator: Bool
        var labelStyle: Int
        var paddedHeader: Bool
    }

    var hasSequences: Bool { fields.contains { $0.kind == .sequence } }

    var description: String {
        "seed \(seed), \(trainRows.count) train / \(testRows.count) test rows, separator \(separator == "\t" ? "TAB" : String(separator)), "
            + "style \(style)\n\(yaml)"
    }

    /// Draws a dataset with the given numbers of fields of each kind (at least one active field in all).
    init(seed: UInt64, categorical: Int, numeric: Int, sequences: Int, rows: Int) {
        self.seed = seed
        var rng = DatasetRandom(seed: seed)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) < p * 10_000 }

        let separator: Character = [",", ";", "\t"][pick(3)]
        let labelName = ["clk", "label", "y"][pick(3)]
        let style = FileStyle(crlf: chance(0.3), bom: chance(0.3), finalNewline: !chance(0.2), pandasIndex: chance(0.2),
                              trailingSeparator: chance(0.2), labelStyle: pick(4), paddedHeader: chance(0.3))
        let stems = ["user", "ad_id", "prix_€", "用户", "city name", "q,uote", "x", "price", "Ä", "tag"]
        var usedNames = Set<String>()
        func name(_ kind: String) -> String {
            var candidate = "\(stems[pick(stems.count)])_\(kind)"
            while usedNames.contains(candidate) { candidate += "\(pick(10))" }
            usedNames.insert(candidate)
            return candidate
        }
        /// A categorical value: short ids mostly, and the odd awkward one.
        func token(_ index: Int, integer: Bool) -> String {
            if integer { return String(index * 7 - 5) }
            switch pick(12) {
            case 0: return "é日本\(index)"
            case 1: return "a\(separator)b\(index)"
            case 2: return "he said \"\(index)\""
            case 3: return "line\nbreak\(index)"
            case 4: return String(repeating: "long\(index)", count: 50 + pick(500))
            case 5: return " spaced \(index) "
            default: return "v\(index)"
            }
        }

        var fields: [Field] = []
        var minCount = 1
        if chance(0.3) { minCount = 2 }
        for _ in 0..<categorical {
            let integer = chance(0.3)
            let fieldName = name("c")
            var pool = (0..<(2 + pick(10))).map { token($0, integer: integer) }
            pool = Array(Set(pool)).sorted()
            var yaml = "{name: \(Self.quoted(fieldName)), active: true, dtype: \(integer ? "int" : "str"), type: categorical"
            if chance(0.3) { yaml += ", fill_na: \(Self.quoted(integer ? "0" : "filled"))" }
            yaml += "}"
            fields.append(Field(name: fieldName, kind: .categorical, integer: integer, yaml: yaml, pool: pool, splitter: "", maxLength: 0))
        }
        for _ in 0..<numeric {
            let integer = chance(0.3)
            let fieldName = name("n")
            var yaml = "{name: \(Self.quoted(fieldName)), active: true, dtype: \(integer ? "int" : "float"), type: numeric"
            switch pick(3) {
            case 0: yaml += ", normalizer: StandardScaler"
            case 1: yaml += ", normalizer: MinMaxScaler"
            default: break
            }
            if chance(0.3) { yaml += ", fill_na: \(integer ? "3" : "0.5")" }
            yaml += "}"
            fields.append(Field(name: fieldName, kind: .numeric, integer: integer, yaml: yaml, pool: [], splitter: "", maxLength: 0))
        }
        let categoricalNames = fields.filter { $0.kind == .categorical }.map(\.name)
        for _ in 0..<sequences {
            let fieldName = name("s")
            let splitter = ["^", "|", "#", "::"][pick(4)]
            let maxLength = 1 + pick(5)
            var yaml = "{name: \(Self.quoted(fieldName)), active: true, dtype: str, type: sequence, splitter: \(Self.quoted(splitter)), "
                + "max_len: \(maxLength), padding: \(chance(0.5) ? "pre" : "post")"
            var pool = (0..<(2 + pick(12))).map { "t\($0)" + (chance(0.1) ? "é" : "") }
            if !categoricalNames.isEmpty, chance(0.4) {
                let shared = categoricalNames[pick(categoricalNames.count)]
                yaml += ", share_embedding: \(Self.quoted(shared))"
                // Draw some tokens from the shared field's values, so the shared vocabulary matters.
                if let other = fields.first(where: { $0.name == shared }) {
                    pool += other.pool.filter { !$0.contains(splitter) && !$0.isEmpty }.prefix(4)
                }
            }
            yaml += "}"
            fields.append(Field(name: fieldName, kind: .sequence, integer: false, yaml: yaml, pool: Array(Set(pool)).sorted(),
                                splitter: splitter, maxLength: maxLength))
        }
        for _ in 0..<pick(3) {
            let fieldName = name("junk")
            fields.append(Field(name: fieldName, kind: .inactive, integer: false,
                                yaml: "{name: \(Self.quoted(fieldName)), active: false, dtype: str, type: categorical}",
                                pool: ["j1", "j,2", "j\"3"], splitter: "", maxLength: 0))
        }
        // Columns in a random order, as real files have them.
        for i in stride(from: fields.count - 1, to: 0, by: -1) { fields.swapAt(i, pick(i + 1)) }
        self.fields = fields
        func value(_ field: Field, test: Bool) -> Value {
            if chance(0.1) { return .missing }
            switch field.kind {
            case .categorical, .inactive:
                if test, chance(0.15) { return .text(field.integer ? String(900 + pick(100)) : "unseen\(pick(100))") }
                return .text(field.pool[pick(field.pool.count)])
            case .numeric:
                if field.integer {
                    let n = pick(2000) - 1000
                    let file = [String(n), n >= 0 ? "+\(n)" : String(n), " \(n) "][pick(3)]
                    return .number(file: file, json: String(n))
                }
                // Multiples of 1/8 are exact in binary and in three decimals, so every notation is the same double.
                let eighths = pick(160_000) - 80_000
                let v = Double(eighths) / 8
                let plain = Self.decimal(v)
                var notations = [plain, " \(plain) ", Self.scientific(v, upper: false), Self.scientific(v, upper: true)]
                if v >= 0 { notations.append("+" + plain) }
                if v > 0, v < 1 { notations.append(String(plain.dropFirst())) }  // ".375"
                if v == v.rounded() { notations.append(String(Int(v)) + ".") }  // "12."
                return .number(file: notations[pick(notations.count)], json: "\(v)")
            case .sequence:
                let count = pick(field.maxLength + 4)
                return .tokens((0..<count).map { _ in
                    if test, chance(0.15) { return "unseen\(pick(50))" }
                    if chance(0.05) { return "" }
                    return field.pool[pick(field.pool.count)]
                })
            }
        }
        var trainRows: [Row] = [], testRows: [Row] = []
        for _ in 0..<rows { trainRows.append(Row(label: pick(2), values: fields.map { value($0, test: false) })) }
        for _ in 0..<(10 + pick(40)) { testRows.append(Row(label: pick(2), values: fields.map { value($0, test: true) })) }
        self.trainRows = trainRows
        self.testRows = testRows
        self.separator = separator
        self.labelName = labelName
        self.style = style

        let separatorYAML = separator == "\t" ? "\"\\t\"" : Self.quoted(String(separator))
        yaml = """
            random_ds:
              data_format: csv
              sep: \(separatorYAML)
              train_data: train.csv
              min_categr_count: \(minCount)
              label_col: {name: \(Self.quoted(labelName)), dtype: float}
              feature_cols:
            \(fields.map { "    - " + $0.yaml }.joined(separator: "\n"))

            """
    }

    // MARK: - Files

    /// The file's text for `rows`.
    func csv(_ rows: [Row]) -> String {
        let end = style.crlf ? "\r\n" : "\n"
        var names = [labelName] + fields.map(\.name)
        if style.paddedHeader { names = names.map { " \($0) " } }
        var lines: [String] = []
        func line(_ cells: [String]) -> String {
            var cells = cells
            if style.pandasIndex { cells.insert(lines.isEmpty ? "" : String(lines.count - 1), at: 0) }
            var text = cells.joined(separator: String(separator))
            if style.trailingSeparator { text += String(separator) }
            return text
        }
        lines.append(line(names.map { cell($0) }))
        var rng = DatasetRandom(seed: seed ^ 0x5EED)
        for row in rows {
            let label = [["0", "1"], ["0.0", "1.0"], ["false", "true"], ["False", "TRUE"]][style.labelStyle][row.label]
            var cells = [label]
            for (field, value) in zip(fields, row.values) {
                let quoteAnyway = rng.next() % 8 == 0
                switch value {
                case .missing: cells.append(quoteAnyway ? "\"\"" : "")
                case .text(let text): cells.append(cell(text, quote: quoteAnyway))
                case .number(let file, _): cells.append(cell(file, quote: quoteAnyway))
                case .tokens(let tokens): cells.append(cell(tokens.joined(separator: field.splitter), quote: quoteAnyway))
                }
            }
            lines.append(line(cells))
        }
        return (style.bom ? "\u{FEFF}" : "") + lines.joined(separator: end) + (style.finalNewline ? end : "")
    }

    /// One CSV cell: quoted when it holds the separator, a quote, CR or LF (or when asked), quotes doubled.
    private func cell(_ text: String, quote: Bool = false) -> String {
        let needs = text.contains(separator) || text.contains("\"") || text.contains("\n") || text.contains("\r")
        guard needs || quote else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A tokens value as JSON: alternately an array of tokens and the joined string.
    func instancesJSON(_ rows: [Row]) -> [UInt8] {
        var out = "{\"instances\":["
        for (index, row) in rows.enumerated() {
            if index > 0 { out += "," }
            var members: [String] = []
            for (field, value) in zip(fields, row.values) {
                let key = Self.quoted(field.name)
                switch value {
                case .missing:
                    if index % 2 == 0 { members.append("\(key):null") }
                case .text(let text):
                    if field.kind == .categorical, field.integer, index % 3 == 0, Int(text) != nil {
                        members.append("\(key):\(text)")  // a JSON integer stands for its literal text
                    } else {
                        members.append("\(key):\(Self.quoted(text))")
                    }
                case .number(_, let json):
                    members.append("\(key):\(json)")
                case .tokens(let tokens):
                    if index % 2 == 0 {
                        members.append("\(key):[" + tokens.map(Self.quoted).joined(separator: ",") + "]")
                    } else {
                        members.append("\(key):\(Self.quoted(tokens.joined(separator: field.splitter)))")
                    }
                }
            }
            if index % 4 == 1 { members.append("\(Self.quoted(labelName)):\(row.label)") }
            out += "{" + members.joined(separator: ",") + "}"
        }
        return Array((out + "]}").utf8)
    }

    /// A JSON (and YAML double-quoted) string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `v` (a multiple of 1/8) in plain decimal: `-12.375`, `0.5`, `3.0`.
    static func decimal(_ v: Double) -> String {
        String(format: "%.3f", v)
    }

    /// `v` as mantissa and exponent: `1.2375e1`, `-1237.5E-2`.
    static func scientific(_ v: Double, upper: Bool) -> String {
        let mantissa = v / 10
        return String(format: "%.4f", mantissa) + (upper ? "E+1" : "e1")
    }
}

/// SplitMix64: a tiny seeded generator, so a dataset is a pure function of its seed.
struct DatasetRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
