import Foundation
@testable import CTRData

/// A fresh, empty directory under the system temporary directory; removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to a new file in `directory` and returns its path.
func writeFile(_ text: String, named name: String = "data.tsv", in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
}

/// One Criteo line from a label (nil: no label column), 13 dense fields and 26 categorical fields as text.
func line(label: String? = "1", dense: [String] = Array(repeating: "", count: 13),
          categorical: [String] = Array(repeating: "", count: 26)) -> String {
    ((label.map { [$0] } ?? []) + dense + categorical).joined(separator: "\t")
}

/// A complete, well-formed line whose fields are derived from `i`, with some fields missing.
func sampleLine(_ i: Int, label: Bool = true) -> String {
    let dense = (0..<13).map { f in (i + f) % 5 == 0 ? "" : String((i * 31 + f * 7) % 1000 - 1) }
    let categorical = (0..<26).map { f in (i + f) % 7 == 0 ? "" : String(format: "%08x", UInt32(truncatingIfNeeded: (i % 50) &* 2_654_435_761 &+ f)) }
    return line(label: label ? String(i % 2) : nil, dense: dense, categorical: categorical)
}
