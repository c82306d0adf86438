import CTRData
import CTRFeatures
import FuzzSupport

/// A Criteo feature map with short and long values, so both of the vocabulary index's key kinds are looked up.
private let encoder: FeatureEncoder = {
    let vocabularies = (0..<26).map { field in (0..<30).map { $0 % 3 == 0 ? "long-value-\(field)-\($0)" : String(format: "%08x", field * 100 + $0) } }
    return FeatureEncoder(map: try! FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 10, count: 13), minCount: 1))
}()

// Any bytes as a Criteo TSV file (issue 21): the fast reader with a tiny or a large read buffer, with and
// without a label column, every row fitted into a feature map and encoded by a fixed one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCriteoReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput.bytes(data, size)
    guard let first = input.first else { return 0 }
    FuzzFile.write(UnsafeRawBufferPointer(rebasing: input.dropFirst()))
    guard var reader = try? CriteoReader(path: FuzzFile.path, hasLabel: first & 1 == 0) else { return 0 }
    reader.chunkSize = [5, 64, 4096, 1 << 16][Int(first >> 1 & 3)]
    var builder = FeatureMapBuilder(minCount: 1)
    var ids = [Int64](repeating: -1, count: 26)
    var dense = [Float](repeating: .nan, count: 13)
    let total = Int64(encoder.map.totalVocabularySize)
    _ = try? reader.forEachRow { row in
        row.add(to: &builder)
        ids.withUnsafeMutableBufferPointer { i in
            dense.withUnsafeMutableBufferPointer { d in row.encode(with: encoder, ids: i.baseAddress!, dense: d.baseAddress!) }
        }
        for id in ids { precondition(id >= 0 && id < total, "id \(id) outside 0..<\(total)") }
        for value in dense { precondition(value.isFinite, "dense value \(value)") }
        if let label = row.label { precondition(label == 0 || label == 1, "label \(label)") }
    }
    if builder.rowCount > 0 { _ = FeatureEncoder(map: builder.build()) }
    // The iterator (RawRow copies) must see the same rows as the zero-copy pass.
    var copies = 0
    for _ in reader { copies += 1 }
    precondition(copies == reader.stats.rowsRead, "iterator saw \(copies) rows, stats say \(reader.stats.rowsRead)")
    return 0
}
