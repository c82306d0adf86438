/// A strict reader of the Prometheus text exposition format (0.0.4), for tests of `/metrics`.
///
/// It refuses what a Prometheus server would refuse (a bad metric or label name, an unterminated label value,
/// a value that is not a number, a `# TYPE` after its samples or twice) and checks histograms are consistent
/// (cumulative buckets ending in `+Inf` equal to `_count`), naming the line of the first problem.
public struct PrometheusText: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// A line that does not parse, with its 1-based number.
    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public private(set) var samples: [Sample] = []
    /// Each family's declared type (`counter`, `gauge`, `histogram`, ...).
    public private(set) var types: [String: String] = [:]

    /// Parses `text`, or throws the first problem.
    public init(_ text: String) throws(ParseError) {
        var sampled = Set<String>()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else { continue }
                let name = String(parts[2])
                guard Self.isMetricName(name) else { throw ParseError(line: number, reason: "bad metric name \"\(name)\"") }
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw ParseError(line: number, reason: "bad TYPE line \"\(line)\"")
                    }
                    guard types[name] == nil else { throw ParseError(line: number, reason: "second TYPE for \(name)") }
                    guard !sampled.contains(name) else { throw ParseError(line: number, reason: "TYPE for \(name) after its samples") }
                    types[name] = String(parts[3])
                }
                continue
            }
            let sample = try Self.sample(Substring(line), line: number)
            sampled.insert(Self.family(of: sample.name))
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// The value of the sample named `name` whose labels are exactly `labels`.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Every sample named `name` whose labels include `labels`.
    public func samples(_ name: String, matching labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    private static func family(of name: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    private func checkHistograms() throws(ParseError) {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                guard let le = sample.labels["le"], let bound = Self.number(le) else {
                    throw ParseError(line: 0, reason: "\(family)_bucket without a numeric le label")
                }
                var rest = sample.labels
                rest["le"] = nil
                series[rest, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.le < $1.le }
                guard sorted.last?.le == .infinity else { throw ParseError(line: 0, reason: "\(family)\(labels) has no +Inf bucket") }
                for (a, b) in zip(sorted, sorted.dropFirst()) where b.count < a.count {
                    throw ParseError(line: 0, reason: "\(family)\(labels) buckets are not cumulative")
                }
                guard value(family + "_count", labels) == sorted.last!.count, value(family + "_sum", labels) != nil else {
                    throw ParseError(line: 0, reason: "\(family)\(labels): _count differs from the +Inf bucket, or _sum is missing")
                }
            }
        }
    }

    private static func sample(_ line: Substring, line lineNumber: Int) throws(ParseError) -> Sample {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " { index = line.index(after: index) }
        let name = String(line[line.startIndex..<index])
        guard isMetricName(name) else { throw ParseError(line: lineNumber, reason: "bad metric name \"\(name)\"") }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while true {
                guard index < line.endIndex else { throw ParseError(line: lineNumber, reason: "unterminated labels") }
                if line[index] == "}" { index = line.index(after: index); break }
                guard let equals = line[index...].firstIndex(of: "=") else { throw ParseError(line: lineNumber, reason: "label without =") }
                let label = String(line[index..<equals])
                guard isLabelName(label) else { throw ParseError(line: lineNumber, reason: "bad label name \"\(label)\"") }
                index = line.index(after: equals)
                guard index < line.endIndex, line[index] == "\"" else { throw ParseError(line: lineNumber, reason: "label \(label) value is not quoted") }
                index = line.index(after: index)
                var value = ""
                while true {
                    guard index < line.endIndex else { throw ParseError(line: lineNumber, reason: "unterminated value of label \(label)") }
                    let character = line[index]
                    index = line.index(after: index)
                    if character == "\"" { break }
                    if character == "\\" {
                        guard index < line.endIndex else { throw ParseError(line: lineNumber, reason: "dangling escape in label \(label)") }
                        switch line[index] {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw ParseError(line: lineNumber, reason: "bad escape in label \(label)")
                        }
                        index = line.index(after: index)
                    } else {
                        value.append(character)
                    }
                }
                guard labels.updateValue(value, forKey: label) == nil else { throw ParseError(line: lineNumber, reason: "label \(label) twice") }
                if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
            }
        }
        let fields = line[index...].split(separator: " ")
        guard (1...2).contains(fields.count), let value = number(String(fields[0])) else {
            throw ParseError(line: lineNumber, reason: "sample \(name) has no numeric value: \"\(line)\"")
        }
        if fields.count == 2, Int64(fields[1]) == nil { throw ParseError(line: lineNumber, reason: "bad timestamp \"\(fields[1])\"") }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }

    private static func isMetricName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func allowed(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
        }
        guard let first = bytes.first, allowed(first) else { return false }
        return bytes.allSatisfy { allowed($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private static func isLabelName(_ name: String) -> Bool {
        isMetricName(name) && !name.contains(":")
    }
}
