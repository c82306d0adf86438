// Request/response codec benchmarks: time and malloc counts per operation.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target CodecBenchmarks
import Benchmark
import CTRServer
import Foundation

/// One Criteo-style row with all 39 features (~600 bytes as a body), same shape as the unit tests use.
private func row(_ seed: Int) -> String {
    let dense = [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, -1, 2].map { $0 == -1 ? -1 : $0 + seed % 7 }
    let categorical = [
        "68fd1e64", "80e26c9b", "fb936136", "7b4723c4", "25c83c98", "7e0ccccf", "de7995b8", "1f89b562",
        "a73ee510", "a8cd5504", "b2cb9c98", "37c9c164", "2824a5f6", "1adce6ef", "8ba8b39a", "891b62e7",
        "e5ba7672", "f54016b9", "21ddcdc9", "b1252a9d", "07b5194c", "3a171ecb", "c5c50484", "e8b83407",
        "9727dd16", "d7c4a8f5",
    ]
    let fields = dense.enumerated().map { "\"I\($0.offset + 1)\":\($0.element)" }
        + categorical.enumerated().map { "\"C\($0.offset + 1)\":\"\($0.element)\"" }
    return "{" + fields.joined(separator: ",") + "}"
}

private func body(rows: Int) -> [UInt8] {
    Array(("{\"instances\":[" + (0..<rows).map(row).joined(separator: ",") + "]}").utf8)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 100,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )
    let oneRow = body(rows: 1)
    let hundredRows = body(rows: 100)
    let decoder = PredictRequestDecoder(maxInstances: 1000)

    for (name, bytes) in [("1 row", oneRow), ("100 rows", hundredRows)] {
        Benchmark("PredictRequestDecoder \(name) (\(bytes.count) B)") { benchmark in
            var instances = DecodedInstances(reservingRows: 100)
            try decoder.decode(bytes, into: &instances)  // warm the reused storage
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try decoder.decode(bytes, into: &instances)
                blackHole(instances.count)
            }
        }
        Benchmark("JSONSerialization \(name) (\(bytes.count) B)") { benchmark in
            let data = Data(bytes)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try JSONSerialization.jsonObject(with: data))
            }
        }
    }

    for count in [1, 100] {
        let predictions = (0..<count).map { Float($0 + 1) * 0.000_312_7 + 0.0312 }
        Benchmark("PredictResponseEncoder \(count) floats") { benchmark in
            var output: [UInt8] = []
            output.reserveCapacity(4096)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                output.removeAll(keepingCapacity: true)
                PredictResponseEncoder.encode(predictions: predictions, into: &output)
                blackHole(output.count)
            }
        }
        Benchmark("InferResponseEncoder \(count) floats, binary") { benchmark in
            var encoder = InferResponseEncoder()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                encoder.begin(modelName: "deepfm", modelVersion: "1", id: nil)
                encoder.appendOutput(name: "probability", shape: CollectionOfOne(count), values: predictions, binary: true)
                encoder.finish()
                blackHole(encoder.headerLength)
            }
        }
    }
}
