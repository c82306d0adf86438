import Foundation
import Testing
@testable import CTRFeatures

/// Prints categoricalID timings; not a timed assertion. Meaningful only in a release build:
/// `CLICKWISE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter EncoderBenchmark`.
@Suite struct EncoderBenchmarkTests {
    @Test func categoricalIDTiming() {
        let full = ProcessInfo.processInfo.environment["CLICKWISE_BENCH"] != nil
        let vocabularySize = full ? 200_000 : 2_000
        let lookups = full ? 20_000_000 : 20_000
        let values = (0..<vocabularySize).map { String(format: "%08x", UInt32(truncatingIfNeeded: $0 &* 2_654_435_761)) }
        var vocabularies = Array(repeating: [String](), count: CriteoSchema.categoricalCount)
        vocabularies[2] = values
        let map = try! FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 1, count: 13), minCount: 1)
        let encoder = FeatureEncoder(map: map)
        // Probe bytes laid out contiguously, half known values and half unseen ones.
        let probes = (0..<4096).map { i in i % 2 == 0 ? values[(i &* 7919) % vocabularySize] : String(format: "%08X", i) }
        let bytes = Array(probes.joined().utf8)
        var checksum: Int64 = 0
        let start = ContinuousClock.now
        bytes.withUnsafeBytes { raw in
            for i in 0..<lookups {
                let slot = i & 4095
                let value = UnsafeRawBufferPointer(rebasing: raw[(slot * 8)..<(slot * 8 + 8)])
                checksum &+= encoder.categoricalID(field: 2, utf8: value)
            }
        }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        print("categoricalID: \(String(format: "%.1f", nanoseconds / Double(lookups))) ns/lookup over \(lookups) lookups, vocabulary \(vocabularySize) (checksum \(checksum))")
        #expect(checksum > 0)
    }
}
