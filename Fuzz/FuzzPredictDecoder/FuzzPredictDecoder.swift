import CTRFeatures
import CTRServer
import CTRServing
import Foundation
import FuzzSupport

/// One schema under test: its decoder, an encoder over a small fitted vocabulary, and each field's id block.
private struct Case: Sendable {
    let decoder: PredictRequestDecoder
    let encoder: FeatureEncoder
    let categoricalBlocks: [Range<Int64>]
    let sequenceBlocks: [Range<Int64>]
    /// Items keyed by the first categorical field, with every other item field (serve --item-table).
    let items: ItemTable

    init(schema: FeatureSchema, ignoreUnknownFields: Bool) {
        decoder = PredictRequestDecoder(schema: schema, maxInstances: 64, ignoreUnknownFields: ignoreUnknownFields)
        // A few known values per field, so encoding meets known, unknown and missing values alike.
        var builder = FeatureMapBuilder(schema: schema, minCount: 1)
        for row in 0..<3 {
            for field in schema.categoricalFields.indices { builder.addCategorical(field: field, string: "v\(row)") }
            for field in schema.numericFields.indices { builder.addDense(field: field, raw: Double(row)) }
            for field in schema.sequenceFields.indices { builder.addSequence(field: field, string: "v\(row)") }
            builder.finishRow()
        }
        let map = builder.build()
        encoder = FeatureEncoder(map: map)
        let blocks = zip(map.fieldOffsets, map.fieldVocabularySizes).map { Int64($0)..<Int64($0 + $1) }
        categoricalBlocks = Array(blocks.prefix(schema.categoricalFields.count))
        sequenceBlocks = map.sequenceBlocks.map { blocks[$0] }
        // Keys a fuzzer finds in the JSON dictionary and seeds ("v0", "a1", ...), with known, unknown and empty values.
        let columns = [schema.categoricalFields[0].name] + schema.fields.dropFirst().filter { $0.name != schema.categoricalFields[0].name && !$0.isContext }.map(\.name)
        let rows: [[String?]] = ["v0", "v1", "a1", "unseen", "x"].enumerated().map { index, key in
            [key] + columns.dropFirst().map { name in
                schema.numericFields.contains { $0.name == name } ? (index == 2 ? nil : String(Double(index) * 1.5)) : (index == 3 ? nil : "v\(index % 3)")
            }
        }
        guard let table = try? ItemTable(ItemRows(path: "items.csv", columns: columns, rows: rows, lines: rows.indices.map { $0 + 2 }), encoder: encoder) else {
            fatalError("the fuzz item table does not fit its schema")
        }
        items = table
    }
}

private let cases: [Case] = {
    let tiny = FuzzInput.packageRoot + "/configs/tiny/dataset_config.yaml"
    guard let config = try? DatasetConfig(contentsOf: URL(fileURLWithPath: tiny)) else { fatalError("cannot read \(tiny)") }
    return [Case(schema: .criteo, ignoreUnknownFields: false), Case(schema: config.schema, ignoreUnknownFields: false),
            Case(schema: config.schema, ignoreUnknownFields: true)]
}()

// Reused across inputs as a connection reuses its scratch rows: a reset that leaves stale state shows up here.
nonisolated(unsafe) private var instances = DecodedInstances(reservingRows: 1)
nonisolated(unsafe) private var context = DecodedInstances(reservingRows: 1)

// Any bytes as a CTR predict body and as a ranking body (:rank), on the Criteo preset and on a schema with a
// sequence field; what decodes is encoded, and every id must land in its field's block of the embedding table.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPredictDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    // The traffic split's sticky key is read from the raw body before any parse (serve --traffic): any bytes, any field.
    for field in ["userid", "C1", "u", ""] {
        let key = TrafficPolicy.stickyKey(in: bytes, field: field)
        precondition(key == TrafficPolicy.stickyKey(in: bytes, field: field), "a sticky key that changes between reads")
    }
    for test in cases {
        do throws(RequestDecodeError) {
            try test.decoder.decode(bytes, into: &instances)
        } catch {
            precondition(!error.message.isEmpty, "a decode error without a message")
            continue
        }
        check(instances, test)
    }
    for test in cases {
        do throws(RequestDecodeError) {
            let options = try test.decoder.decodeRank(bytes, candidates: &instances, context: &context)
            precondition(options.topK.map { $0 >= 1 } ?? true, "a top_k below 1 decoded")
        } catch {
            precondition(!error.message.isEmpty, "a decode error without a message")
            continue
        }
        precondition(context.count <= 1, "\(context.count) context rows")
        check(instances, test)
        check(context, test)
        fillRanked(test)
    }
    return 0
}

/// The candidates encoded as `:rank` does (their own values, then the context's, then the item table's): every id in
/// its field's block, every number finite, every buffer slot written.
private func fillRanked(_ test: Case) {
    let encoder = test.encoder, rows = instances.count
    guard rows > 0 else { return }
    var ids = [Int64](repeating: -7, count: rows * encoder.categoricalCount)
    var dense = [Float](repeating: .nan, count: rows * encoder.numericCount)
    var sequences = [Int64](repeating: -7, count: rows * encoder.sequenceWidth)
    ids.withUnsafeMutableBufferPointer { i in
        dense.withUnsafeMutableBufferPointer { d in
            sequences.withUnsafeMutableBufferPointer { s in
                let out = FeatureEncodingStage.Rows(ids: i, dense: d, sequences: s)
                InferenceCore.encode(instances, with: encoder, into: out)
                if context.count == 1 { InferenceCore.fillFromContext(context, candidates: instances, encoder: encoder, into: out) }
                let unknown = InferenceCore.fillFromItems(test.items, candidates: instances, encoder: encoder, into: out)
                precondition(unknown >= 0 && unknown <= rows, "\(unknown) unknown items among \(rows) candidates")
            }
        }
    }
    for (index, id) in ids.enumerated() {
        precondition(test.categoricalBlocks[index % encoder.categoricalCount].contains(id), "ranked id \(id) outside its block")
    }
    precondition(dense.allSatisfy(\.isFinite), "a ranked number is not finite")
    if encoder.sequenceWidth > 0 {
        precondition(sequences.allSatisfy { id in test.sequenceBlocks.contains { $0.contains(id) } }, "a ranked sequence id outside every block")
    }
}

private func check(_ instances: DecodedInstances, _ test: Case) {
    precondition(instances.count <= test.decoder.maxInstances, "\(instances.count) rows past the limit")
    instances.withUnsafeDenseValues { values in
        precondition(values.count == instances.count * instances.numericWidth, "numeric storage of the wrong size")
        for (index, value) in values.enumerated() {
            precondition(value.isNaN || value.isFinite, "a non-finite number decoded")
            _ = test.encoder.denseValue(field: index % instances.numericWidth, raw: value.isNaN ? nil : value)
        }
    }
    instances.forEachCategorical { _, field, bytes in
        if let bytes { precondition(String(validating: bytes, as: UTF8.self) != nil, "a categorical value is not UTF-8") }
        let id = test.encoder.categoricalID(field: field, utf8: bytes)
        precondition(test.categoricalBlocks[field].contains(id), "id \(id) outside field \(field)'s block")
    }
    let width = test.encoder.sequenceWidth
    guard width > 0 else { return }
    var ids = [Int64](repeating: -1, count: width)
    instances.forEachSequence { _, field, value in
        ids.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress! + test.encoder.sequenceStarts[field]
            switch value {
            case .missing: test.encoder.encodeSequence(field: field, utf8: nil, into: out)
            case .joined(let text): test.encoder.encodeSequence(field: field, utf8: text, into: out)
            case .tokens(let count, let token):
                test.encoder.encodeSequence(field: field, tokenCount: count, into: out) { body in
                    for i in 0..<count { body(token(i)) }
                }
            }
        }
        let start = test.encoder.sequenceStarts[field]
        for id in ids[start..<start + test.encoder.sequenceLengths[field]] {
            precondition(test.sequenceBlocks[field].contains(id), "sequence id \(id) outside field \(field)'s block")
        }
    }
}
