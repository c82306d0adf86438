import CTRFeatures
import Foundation
import Testing
@testable import CTRData

@Suite struct SyntheticCriteoTests {
    @Test func sameSeedSameBytesAndLongerFilesExtendShorterOnes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ seed: UInt64, rows: Int, _ name: String) throws -> (Data, Data) {
            let path = directory.appendingPathComponent(name).path
            try SyntheticCriteo(seed: seed).write(rows: rows, to: path, truthPath: path + ".truth")
            return (try Data(contentsOf: URL(fileURLWithPath: path)), try Data(contentsOf: URL(fileURLWithPath: path + ".truth")))
        }
        let a = try write(42, rows: 1_000, "a.tsv")
        let b = try write(42, rows: 1_000, "b.tsv")
        let c = try write(43, rows: 1_000, "c.tsv")
        let short = try write(42, rows: 100, "short.tsv")
        #expect(a == b)
        #expect(a.0 != c.0)
        #expect(a.0.starts(with: short.0))
        #expect(a.1.starts(with: short.1))
    }

    @Test func baseCTRNearCriteoAndTruthLinesMatchRows() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("synth.tsv").path
        let truthPath = SyntheticCriteo.defaultTruthPath(for: path)
        let summary = try SyntheticCriteo(seed: 7).write(rows: 20_000, to: path, truthPath: truthPath)
        #expect(summary.rows == 20_000)
        let rate = Double(summary.clicks) / 20_000
        #expect(rate >= 0.2 && rate <= 0.3)
        #expect(summary.meanProbability >= 0.2 && summary.meanProbability <= 0.3)

        let truth = try String(contentsOfFile: truthPath, encoding: .utf8).split(separator: "\n")
        #expect(truth.count == 20_000)
        let probabilities = truth.compactMap { Double($0) }
        #expect(probabilities.count == 20_000)
        #expect(probabilities.allSatisfy { $0 > 0 && $0 < 1 })

        let reader = try CriteoReader(path: path)
        var labels = 0.0
        var missingI1 = 0, missingC3 = 0
        var distinct = Array(repeating: Set<String>(), count: 26)
        let stats = try reader.forEachRow { view in
            labels += Double(view.label ?? -1)
            if view.dense(0) == nil { missingI1 += 1 }
            if view.categoricalUTF8(2) == nil { missingC3 += 1 }
            for field in [2, 8, 19] { if let value = view.categorical(field) { distinct[field].insert(value) } }
        }
        #expect(stats.rowsRead == 20_000)
        #expect(stats.malformedCount == 0)
        #expect(Int(labels) == summary.clicks)
        #expect((0.4...0.5).contains(Double(missingI1) / 20_000))  // I1 is missing ~45% of the time
        #expect((0.01...0.05).contains(Double(missingC3) / 20_000))
        #expect(distinct[8].count == 3)       // C9: a tiny field
        #expect(distinct[19].count == 4)      // C20
        #expect(distinct[2].count > 5_000)    // C3: a huge, heavy-tailed field
        #expect(distinct[2].allSatisfy { $0.count == 8 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func inMemoryRowsMatchTheWrittenFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("synth.tsv").path
        let model = SyntheticCriteo(seed: 3)
        try model.write(rows: 200, to: path, truthPath: path + ".truth")
        var generated: [RawRow] = []
        var probabilities: [Double] = []
        model.forEachRow(count: 200) { row, p in
            generated.append(row)
            probabilities.append(p)
        }
        #expect(Array(try CriteoReader(path: path)) == generated)
        let truth = try String(contentsOfFile: path + ".truth", encoding: .utf8).split(separator: "\n").map { Double($0)! }
        for (written, exact) in zip(truth, probabilities) { #expect(abs(written - exact) <= 5e-9) }
    }

    /// Each term of the hidden model carries signal: dropping it from the true logit costs AUC.
    /// Prints the ablation table quoted in docs/TRAINING.md (seed 11, 50k rows).
    @Test func everyTermOfTheTrueLogitCarriesSignal() {
        let model = SyntheticCriteo(seed: 11)
        var rng = SplitMix64(seed: 11)
        var draw = SyntheticCriteo.Draw()
        var labels: [Bool] = []
        var parts: [SyntheticCriteo.LogitParts] = []
        for _ in 0..<50_000 {
            model.next(&rng, into: &draw)
            labels.append(draw.clicked)
            parts.append(model.logitParts(draw))
        }
        func auc(_ score: (SyntheticCriteo.LogitParts) -> Double) -> Double {
            let order = parts.indices.sorted { score(parts[$0]) < score(parts[$1]) }
            var positives = 0.0, rankSum = 0.0
            for (rank, index) in order.enumerated() where labels[index] {
                positives += 1
                rankSum += Double(rank + 1)
            }
            let negatives = Double(labels.count) - positives
            return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
        }
        let full = auc { $0.dense + $0.denseMissing + $0.main + $0.interactions }
        let withoutInteractions = auc { $0.dense + $0.denseMissing + $0.main }
        let withoutMain = auc { $0.dense + $0.denseMissing + $0.interactions }
        let withoutDense = auc { $0.denseMissing + $0.main + $0.interactions }
        let withoutMissing = auc { $0.dense + $0.main + $0.interactions }
        print("""
            true-logit AUC: full \(full), without interactions \(withoutInteractions), without main effects \(withoutMain), \
            without dense slopes \(withoutDense), without dense-missing effects \(withoutMissing)
            """)
        for ablated in [withoutInteractions, withoutMain, withoutDense, withoutMissing] { #expect(ablated < full - 0.003) }
    }

    @Test func zipfRanksStayInRangeAndFavourTheHead() {
        #expect(SyntheticCriteo.zipfRank(0, cardinality: 10, exponent: 1.2) == 0)
        #expect(SyntheticCriteo.zipfRank(0.999_999_999, cardinality: 10, exponent: 1.2) == 9)
        #expect(SyntheticCriteo.zipfRank(0.999_999_999, cardinality: 4, exponent: 1.0) == 3)
        #expect(SyntheticCriteo.zipfRank(0.5, cardinality: 1_000_000, exponent: 1.05) < 1_000)
    }

    @Test func refusesBadArguments() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.tsv").path
        let model = SyntheticCriteo(seed: 1)
        #expect(throws: CTRDataError.self) { try model.write(rows: 10, to: path, truthPath: path) }
        #expect(throws: CTRDataError.self) { try model.write(rows: -1, to: path, truthPath: path + ".t") }
        #expect {
            try model.write(rows: 1, to: directory.appendingPathComponent("no/such/dir.tsv").path, truthPath: path + ".t")
        } throws: { error in
            (error as? CTRDataError)?.code == .writeFailed && "\(error)".contains("no/such/dir.tsv")
        }
    }

    @Test func summaryReadsWellForTheCommandLine() {
        let summary = SynthesisSummary(seed: 9, rows: 1_000, clicks: 251, meanProbability: 0.2496,
                                       dataPath: "d.tsv", truthPath: "d.tsv.truth")
        #expect(summary.description == """
            wrote 1000 rows to d.tsv (seed 9, 251 clicks = 25.1%, mean true CTR 25.0%)
            wrote 1000 true click probabilities to d.tsv.truth
            """)
        #expect(SyntheticCriteo.defaultTruthPath(for: "/tmp/a.tsv") == "/tmp/a.tsv.truth")
    }
}
