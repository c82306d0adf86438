import CTRFeatures
import CTRServing
import Foundation

/// The rows of one CTR API request as prediction-log lines (``PredictionLog``), built before the request is queued
/// (the decoded rows are the connection's scratch, reused by its next request): every column but the prediction,
/// which ``lines(predictions:)`` appends once the model answers.
///
/// Columns: `request_id,timestamp_ms,model,version,index`, the bundle's schema fields in schema order (raw, as the
/// request gave them: a ranking candidate's own value, else its item's from the item table, else the context's),
/// then `prediction`. A training config reads the file by those names; the join adds the label.
struct PredictionRecords {
    private var prefixes: [UInt8] = []
    private var ends: [Int] = []

    /// Where each schema field sits in the decoded rows, worked out once per bundle (``ModelEndpoint``).
    struct Layout: Sendable {
        struct Column: Sendable {
            let kind: FeatureSchema.Kind
            /// Index within its kind's fields.
            let index: Int
            let name: String
            /// A sequence field's splitter, to join a token list.
            let splitter: [UInt8]
        }

        let columns: [Column]
        /// The header line.
        let header: [UInt8]

        init(_ schema: FeatureSchema) {
            var categorical = 0, numeric = 0, sequence = 0
            columns = schema.fields.map { field in
                switch field.kind {
                case .categorical:
                    defer { categorical += 1 }
                    return Column(kind: .categorical, index: categorical, name: field.name, splitter: [])
                case .numeric:
                    defer { numeric += 1 }
                    return Column(kind: .numeric, index: numeric, name: field.name, splitter: [])
                case .sequence:
                    defer { sequence += 1 }
                    return Column(kind: .sequence, index: sequence, name: field.name, splitter: Array((field.sequence?.splitter ?? "^").utf8))
                }
            }
            header = PredictionRecords.header(schema)
        }
    }

    /// The header line of a bundle with `schema`.
    static func header(_ schema: FeatureSchema) -> [UInt8] {
        var line = Array("request_id,timestamp_ms,model,version,index".utf8)
        for field in schema.fields {
            line.append(UInt8(ascii: ","))
            appendEscaped(field.name.utf8, to: &line)
        }
        line += Array(",prediction\n".utf8)
        return line
    }

    /// The lines of `rows` (the candidates of a ranking request with its `context` and `items`).
    init(requestID: String, model: String, version: String, layout: Layout, rows: DecodedInstances,
         context: DecodedInstances? = nil, items: ItemTable? = nil) {
        var common: [UInt8] = []
        common.reserveCapacity(requestID.utf8.count + model.utf8.count + version.utf8.count + 24)
        Self.appendEscaped(requestID.utf8, to: &common)
        common.append(UInt8(ascii: ","))
        Self.appendInteger(Int64(Date().timeIntervalSince1970 * 1000), to: &common)
        common.append(UInt8(ascii: ","))
        Self.appendEscaped(model.utf8, to: &common)
        common.append(UInt8(ascii: ","))
        Self.appendEscaped(version.utf8, to: &common)
        common.append(UInt8(ascii: ","))
        let context = context.flatMap { $0.count == 1 ? $0 : nil }
        prefixes.reserveCapacity(rows.count * (common.count + 16 + layout.columns.count * 10))
        for row in 0..<rows.count {
            prefixes += common
            Self.appendInteger(Int64(row), to: &prefixes)
            let item: Int? = items.flatMap { table in
                rows.withCategoricalBytes(row: row, field: table.keyField) { key in key.flatMap { table.row(key: $0) } }
            }
            for field in layout.columns {
                prefixes.append(UInt8(ascii: ","))
                if append(field, from: rows, row: row) { continue }
                if let items, let item, let column = items.rawColumns[field.name], column > 0 {
                    if let value = items.raw.rows[item][column] { Self.appendEscaped(value.utf8, to: &prefixes) }
                    continue
                }
                if let context { _ = append(field, from: context, row: 0) }
            }
            prefixes.append(UInt8(ascii: ","))
            ends.append(prefixes.count)
        }
    }

    /// Appends row `row`'s value of `field` from `instances`; false (nothing appended) when it is missing there.
    private mutating func append(_ field: Layout.Column, from instances: DecodedInstances, row: Int) -> Bool {
        switch field.kind {
        case .categorical:
            return instances.withCategoricalBytes(row: row, field: field.index) { bytes in
                guard let bytes else { return false }
                Self.appendEscaped(bytes, to: &prefixes)
                return true
            }
        case .numeric:
            guard let value = instances.dense(row: row, field: field.index) else { return false }
            if value == value.rounded(), abs(value) < 1e15 {
                Self.appendInteger(Int64(value), to: &prefixes)
            } else {
                prefixes += String(value).utf8
            }
            return true
        case .sequence:
            var found = false
            var text: [UInt8] = []
            instances.withSequence(row: row, field: field.index) { value in
                switch value {
                case .missing: return
                case .joined(let bytes): text = Array(bytes)
                case .tokens(let count, let token):
                    for index in 0..<count {
                        if index > 0 { text += field.splitter }
                        text += Array(token(index))
                    }
                }
                found = true
            }
            if found { Self.appendEscaped(text, to: &prefixes) }
            return found
        }
    }

    /// The finished lines: each row's columns and its prediction.
    func lines(predictions: UnsafeBufferPointer<Float>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(prefixes.count + ends.count * 14)
        var start = 0
        for (row, end) in ends.enumerated() {
            out += prefixes[start..<end]
            out += Array(String(row < predictions.count ? predictions[row] : .nan).utf8)
            out.append(UInt8(ascii: "\n"))
            start = end
        }
        return out
    }

    var count: Int { ends.count }


    /// `bytes` as one CSV field: quoted (quotes doubled) when it holds a separator, quote or line break.
    static func appendEscaped(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let special = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard special else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The decimal digits of `value`, without making a String.
    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64's 20 digits, written backwards
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(24 - count)..<24])
        }
    }
}
