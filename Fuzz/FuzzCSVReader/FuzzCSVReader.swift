import CTRData
import CTRFeatures
import CTRServing
import Foundation
import FuzzSupport

// Any bytes as a CSV file, through everything that reads one (issue 21): CSVReader with a tiny or a large read
// buffer, schema inference, the inferred dataset_config.yaml read back, a feature map fitted from the rows and
// every row encoded by it. The first byte picks the separator and the buffer size; the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSVReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput.bytes(data, size)
    guard let first = input.first else { return 0 }
    let separator: UInt8 = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")][Int(first & 3)]
    let chunk = [4, 7, 64, 1 << 16][Int(first >> 2 & 3)]
    FuzzFile.write(UnsafeRawBufferPointer(rebasing: input.dropFirst()))

    guard var reader = try? CSVReader(path: FuzzFile.path, separator: separator) else { return 0 }
    reader.chunkSize = chunk
    let width = reader.header.count
    var checksum = 0
    _ = try? reader.forEachRow { row in
        precondition(row.columnCount == width, "a row of \(row.columnCount) fields under a header of \(width)")
        for column in 0..<row.columnCount {
            guard let field = row.field(column) else { continue }
            precondition(!field.isEmpty, "an empty field must read as missing")
            for byte in field { checksum &+= Int(byte) }  // touch every byte: ASan checks each read
        }
    }
    guard let label = reader.header.first(where: { !$0.isEmpty }),
          let inferred = try? SchemaInference(label: label, separator: separator, sampleRows: 1_000).infer(path: FuzzFile.path)
    else { return 0 }

    // The inferred config, read as a user's would be, then fit and encode: the path `train` and `evaluate` take.
    let yaml = inferred.datasetConfigYAML(datasetID: "fuzz", trainData: FuzzFile.path)
    let configPath = FuzzFile.path + ".yaml"
    guard (try? yaml.write(toFile: configPath, atomically: false, encoding: .utf8)) != nil,
          let config = try? DatasetConfig(contentsOf: URL(fileURLWithPath: configPath)),
          let file = try? DatasetFile(path: FuzzFile.path, config: config, requiresLabel: false)
    else { return 0 }
    var builder = FeatureMapBuilder(schema: config.schema, minCount: 1)
    guard (try? file.forEachRow { $0.add(to: &builder) }) != nil, builder.rowCount > 0 else { return 0 }
    let map = builder.build()
    let encoder = FeatureEncoder(map: map)
    var ids = [Int64](repeating: -1, count: max(1, encoder.categoricalCount))
    var dense = [Float](repeating: 0, count: max(1, encoder.numericCount))
    var sequences = [Int64](repeating: -1, count: max(1, encoder.sequenceWidth))
    let total = Int64(map.totalVocabularySize)
    _ = try? file.forEachRow { row in
        ids.withUnsafeMutableBufferPointer { i in
            dense.withUnsafeMutableBufferPointer { d in
                sequences.withUnsafeMutableBufferPointer { s in
                    row.encode(with: encoder, ids: i.baseAddress!, dense: d.baseAddress!,
                               sequences: encoder.sequenceWidth > 0 ? s.baseAddress! : nil)
                }
            }
        }
        for id in ids.prefix(encoder.categoricalCount) { precondition(id >= 0 && id < total, "categorical id \(id) outside 0..<\(total)") }
        for id in sequences.prefix(encoder.sequenceWidth) { precondition(id >= 0 && id < total, "sequence id \(id) outside 0..<\(total)") }
    }
    // The same file as an item table (serve --item-table) for the model fitted from it: a table either loads, every
    // id in range and every key found at its own row, or is refused with a message naming the file.
    if separator == UInt8(ascii: ","), let rows = try? ItemTableFile.read(FuzzFile.path) {
        do throws(ItemTableError) {
            let table = try ItemTable(rows, encoder: encoder)
            precondition(table.count == rows.rows.count, "\(table.count) items from \(rows.rows.count) rows")
            precondition(table.ids.allSatisfy { $0 >= 0 && $0 < total }, "an item id outside 0..<\(total)")
            precondition(table.sequenceIDs.allSatisfy { $0 >= 0 && $0 < total }, "an item sequence id outside 0..<\(total)")
            precondition(table.dense.allSatisfy(\.isFinite), "a non-finite item number")
            for (index, row) in rows.rows.enumerated() { precondition(table.row(key: row[0]!) == index, "item \(index) not found by its key") }
        } catch {
            precondition(error.message.hasPrefix(FuzzFile.path), "an item table error that does not name the file: \(error.message)")
        }
    }
    return checksum == .min ? 1 : 0
}
