import CTRFeatures
import FuzzSupport

/// A schema with what the encoder distinguishes: a plain and a `fill_na` categorical, a scaled number, a sequence
/// sharing the first field's vocabulary (pre padding) and one with its own and a two-byte splitter (post padding).
private let schema = FeatureSchema(datasetID: "fuzz", label: "y", fields: [
    .init(name: "c0", kind: .categorical),
    .init(name: "c1", kind: .categorical, fillNA: "none"),
    .init(name: "n0", kind: .numeric, valueType: .float, normalizer: .standardScaler),
    .init(name: "s0", kind: .sequence, sequence: .init(splitter: "^", maxLength: 3, padding: .pre, sharedWith: "c0")),
    .init(name: "s1", kind: .sequence, sequence: .init(splitter: "||", maxLength: 2, padding: .post)),
])

// Any bytes (issue 21): the part before the first 0xFE byte is split at 0x00 into values that fit a feature map
// (vocabularies of any bytes, long and short, duplicates, invalid UTF-8), the rest at 0x00 into values every
// encoder entry point looks up. Each sequence is written into a buffer of exactly its length, so a write past
// it is an ASan error; every id must lie in the map's id space.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput.bytes(data, size)
    let cut = input.firstIndex(of: 0xFE) ?? input.count
    let fit = UnsafeRawBufferPointer(rebasing: input[..<cut])
    let queries = UnsafeRawBufferPointer(rebasing: input[min(cut + 1, input.count)...])
    var builder = FeatureMapBuilder(schema: schema, minCount: 1)
    var field = 0
    for value in fit.split(separator: 0, omittingEmptySubsequences: false) {
        let utf8 = UnsafeRawBufferPointer(rebasing: value)
        switch field % 5 {
        case 0: builder.addCategorical(field: 0, utf8: utf8)
        case 1: builder.addCategorical(field: 1, utf8: utf8.isEmpty ? nil : utf8)
        case 2: builder.addDense(field: 0, raw: Double(utf8.count) - 3)
        case 3: builder.addSequence(field: 0, utf8: utf8)
        default:
            builder.addSequence(field: 1, utf8: utf8)
            builder.finishRow()
        }
        field += 1
    }
    builder.finishRow()
    let map = builder.build()
    let encoder = FeatureEncoder(map: map)
    let total = Int64(map.totalVocabularySize)
    for (index, value) in queries.split(separator: 0, omittingEmptySubsequences: false).enumerated() {
        let bytes = UnsafeRawBufferPointer(rebasing: value)
        let copy = Array(bytes)  // an exactly sized allocation: a read past the value is an ASan error
        copy.withUnsafeBytes { utf8 in
            for categorical in 0..<2 {
                let id = encoder.categoricalID(field: categorical, utf8: utf8)
                precondition(id >= 0 && id < total, "categorical id \(id) outside 0..<\(total)")
                let viaString = encoder.categoricalID(field: categorical, string: String(decoding: utf8, as: UTF8.self))
                if String(validating: utf8, as: UTF8.self) != nil { precondition(viaString == id, "String and bytes disagree") }
            }
            for sequence in 0..<2 {
                let length = encoder.sequenceLengths[sequence]
                let out = UnsafeMutablePointer<Int64>.allocate(capacity: length)
                defer { out.deallocate() }
                encoder.encodeSequence(field: sequence, utf8: index % 3 == 0 ? nil : utf8, into: out)
                for k in 0..<length { precondition(out[k] >= 0 && out[k] < total, "sequence id \(out[k]) outside 0..<\(total)") }
            }
            let number = encoder.denseValue(field: 0, raw: utf8.isEmpty ? nil : Double(utf8.count))
            precondition(!number.isNaN, "a NaN model input")
        }
    }
    return 0
}
