// Vocabulary lookups (FeatureEncoder.categoricalID) on a Criteo-scale vocabulary: time, mallocs and the
// resident memory of the built index. Run: cd Benchmarks && swift package --disable-sandbox benchmark --target VocabularyLookup
import Benchmark
import CTRFeatures

/// 2.47M values over Criteo's 26 fields, as many as scripts/make_big_bundle.sh's bundle holds; 8 hex
/// characters each, like Criteo's.
private let perField = 95_000

private func hex(_ x: UInt32) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var bytes = [UInt8](repeating: 0, count: 8)
    for i in 0..<8 { bytes[i] = digits[Int((x >> UInt32(28 - 4 * i)) & 0xF)] }
    return String(decoding: bytes, as: UTF8.self)
}

private func value(field: Int, index: Int) -> String {
    hex(UInt32(truncatingIfNeeded: (field &* 1_000_003 &+ index) &* 2_654_435_761))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 50
    )
    let vocabularies = (0..<CriteoSchema.categoricalCount).map { field in (0..<perField).map { value(field: field, index: $0) } }
    // This throws only on a malformed vocabulary, which the generator cannot make.
    let map = try! FeatureMap(vocabularies: vocabularies, denseScales: Array(repeating: 1, count: CriteoSchema.denseCount), minCount: 1)
    let encoder = FeatureEncoder(map: map)
    // 65,536 probes spread over the whole table (a working set far beyond the caches), 3 in 4 known.
    let probeCount = 1 << 16
    var probeFields: [Int] = []
    var probeBytes: [UInt8] = []
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in 0..<probeCount {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let field = Int(state >> 59) % CriteoSchema.categoricalCount
        let index = Int((state >> 20) % UInt64(perField))
        let text = i % 4 == 3 ? hex(UInt32(truncatingIfNeeded: state >> 7)).uppercased() : value(field: field, index: index)
        probeFields.append(field)
        probeBytes.append(contentsOf: text.utf8)
    }
    Benchmark("categoricalID, 2.47M-value vocabulary, 65,536 random probes") { benchmark in
        probeBytes.withUnsafeBytes { raw in
            var checksum: Int64 = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for i in 0..<probeCount {
                    let value = UnsafeRawBufferPointer(rebasing: raw[(i * 8)..<(i * 8 + 8)])
                    checksum &+= encoder.categoricalID(field: probeFields[i], utf8: value)
                }
            }
            blackHole(checksum)
        }
    }
    Benchmark("FeatureEncoder(map:), 2.47M-value vocabulary",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], maxIterations: 5)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(FeatureEncoder(map: map))
        }
    }
}
