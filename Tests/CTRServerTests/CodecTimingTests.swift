import Foundation
import Testing

@testable import CTRServer

/// Prints codec timings; meaningful with `swift test -c release --filter CodecTiming`.
///
/// No thresholds: CI machines vary. Allocation counts live in Benchmarks/ (ordo-one/benchmark with a
/// malloc interposer); this gives the numbers on any machine without extra packages.
@Suite("Codec timing", .serialized)
struct CodecTimingTests {
    #if DEBUG
    static let scale = 0.02  // debug builds are ~30x slower: keep the suite quick, the numbers are not meaningful
    #else
    static let scale = 20.0
    #endif

    private static func iterations(_ base: Int) -> Int { max(3, Int(Double(base) * scale)) }

    /// Best-of-5 nanoseconds per call of `body` over `iterations` calls.
    private func nanoseconds(_ iterations: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            for _ in 0..<iterations { try body() }
            let elapsed = ContinuousClock.now - start
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best = min(best, ns / Double(iterations))
        }
        return best
    }

    @Test("predict request decode vs JSONSerialization, response encode")
    func timings() throws {
        let decoder = PredictRequestDecoder(maxInstances: 1000)
        var instances = DecodedInstances(reservingRows: 100)
        var report: [String] = []
        for rows in [1, 100] {
            let body = CriteoBodies.body(rows: rows)
            let data = Data(body)
            let iterations = Self.iterations(rows == 1 ? 5_000 : 100)
            let ours = try nanoseconds(iterations) { try decoder.decode(body, into: &instances) }
            #expect(instances.count == rows)
            let foundation = try nanoseconds(iterations) { _ = try JSONSerialization.jsonObject(with: data) }
            report.append(
                "decode \(rows) row(s), \(body.count) B: PredictRequestDecoder \(Int(ours)) ns, "
                    + "JSONSerialization \(Int(foundation)) ns, ratio \(String(format: "%.1f", foundation / ours))x")
        }
        for count in [1, 100] {
            let predictions = (0..<count).map { Float($0 + 1) * 0.000_312_7 + 0.0312 }
            var output: [UInt8] = []
            output.reserveCapacity(4096)
            let ns = nanoseconds(Self.iterations(2_000)) {
                output.removeAll(keepingCapacity: true)
                PredictResponseEncoder.encode(predictions: predictions, into: &output)
            }
            let foundation = try nanoseconds(Self.iterations(2_000)) {
                _ = try JSONSerialization.data(withJSONObject: ["predictions": predictions])
            }
            report.append(
                "encode \(count) float(s), \(output.count) B: PredictResponseEncoder \(Int(ns)) ns, "
                    + "JSONSerialization \(Int(foundation)) ns, ratio \(String(format: "%.1f", foundation / ns))x")
        }
        for line in report { print("[codec timing] \(line)") }
    }
}
