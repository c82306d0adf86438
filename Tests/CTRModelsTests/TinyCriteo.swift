import Foundation
@testable import CTRModels

/// Writes small Criteo-format files with a known click signal, for the training tests.
enum TinyCriteo {
    /// A fresh temporary directory for one test.
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-models-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `rows` rows: the label depends on C1, on a C1×C2 interaction and on I1; other fields are low-cardinality noise.
    /// Returns each row's label and true click probability, so tests can compare with the oracle AUC.
    @discardableResult
    static func write(rows: Int, seed: UInt64, to url: URL) throws -> (labels: [Float], truth: [Float]) {
        var labels: [Float] = [], truth: [Float] = []
        var generator = SeededGenerator(seed: seed)
        var text = ""
        text.reserveCapacity(rows * 120)
        for _ in 0..<rows {
            let c1 = Int(generator.next() % 12), c2 = Int(generator.next() % 4)
            let i1 = Int(generator.next() % 50)
            var logit = -2 + Double(c1 % 4) * 1.0 - 0.03 * Double(i1)
            if c2 == 0 && c1 % 2 == 0 { logit += 2.0 }
            let probability = 1 / (1 + exp(-logit))
            let label = generator.nextUnit() < probability ? 1 : 0
            labels.append(Float(label))
            truth.append(Float(probability))
            var fields = ["\(label)"]
            for field in 0..<13 {
                if field == 0 { fields.append("\(i1)") } else if generator.next() % 3 == 0 { fields.append("") } else {
                    fields.append("\(generator.next() % 200)")
                }
            }
            fields.append(String(format: "%08x", 0xA000 + c1))
            fields.append(String(format: "%08x", 0xB000 + c2))
            for _ in 2..<26 {
                let r = generator.next() % 4
                fields.append(r == 0 ? "" : String(format: "%08x", 0xC000 + Int(r)))
            }
            text += fields.joined(separator: "\t") + "\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return (labels, truth)
    }
}
