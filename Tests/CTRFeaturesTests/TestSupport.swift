import Foundation
@testable import CTRFeatures

/// Builds a row with the given categorical values (by field index) and dense values; the rest missing.
func row(_ categorical: [Int: String] = [:], dense: [Int: Int64] = [:], label: Float? = nil) -> RawRow {
    var r = RawRow(label: label, schema: .criteo)
    for (field, value) in categorical { r.categorical[field] = value }
    for (field, value) in dense { r.dense[field] = Double(value) }
    return r
}

/// `count` copies of a row with `value` in categorical field `field`.
func repeated(_ value: String, field: Int = 0, count: Int) -> [RawRow] {
    Array(repeating: row([field: value]), count: count)
}

/// A fresh, empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A small map: C1 vocabulary ["a", "b"], C2 ["x"], other fields empty; I1 scale 21.
func smallMap() throws -> FeatureMap {
    var vocabularies = Array(repeating: [String](), count: CriteoSchema.categoricalCount)
    vocabularies[0] = ["a", "b"]
    vocabularies[1] = ["x"]
    var scales = Array(repeating: 1.0, count: CriteoSchema.denseCount)
    scales[0] = 21
    return try FeatureMap(vocabularies: vocabularies, denseScales: scales, minCount: 10)
}

extension String {
    /// Calls `body` with this string's UTF-8 bytes.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var copy = self
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
