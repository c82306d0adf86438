// Cost of one ONNX Runtime Run through our binding, against the bare C call on prepared values,
// at batch 1 and 64 on the Criteo-shaped fixture (Tests/Fixtures/criteo_tiny.onnx).
import Benchmark
import Foundation
@_spi(Benchmarks) import ONNXRuntime

private struct Setup {
    let environment: ORTEnvironment
    let session: ORTSession

    static let shared: Setup = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let model = root.appendingPathComponent("Tests/Fixtures/criteo_tiny.onnx").path
        let runtime = try! ORTRuntime.load()
        let environment = try! ORTEnvironment.make(runtime: runtime)
        let options = try! ORTSessionOptions(runtime: runtime)
        try! options.setIntraOpThreads(1)
        try! options.setInterOpThreads(1)
        try! options.setAllowSpinning(false)
        return Setup(environment: environment, session: try! ORTSession(path: model, options: options, environment: environment))
    }()
}

private func inputs(batch: Int) -> ([Int64], [Float]) {
    let ids = (0..<(batch * 26)).map { Int64(($0 &* 7919) % 1000) }
    let dense = (0..<(batch * 13)).map { Float($0 % 17) / 17 }
    return (ids, dense)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions],
                                           maxDuration: .seconds(3), maxIterations: 100_000)
    for batch in [1, 64] {
        Benchmark("C Run, prepared values, batch \(batch)") { benchmark in
            let setup = Setup.shared
            let (ids, dense) = inputs(batch: batch)
            let raw = ORTRawRun(session: setup.session,
                                inputs: [try! ORTValue(ids, shape: [Int64(batch), 26], environment: setup.environment),
                                         try! ORTValue(dense, shape: [Int64(batch), 13], environment: setup.environment)],
                                outputs: [try! ORTValue(zeros: .float, shape: [Int64(batch), 1], environment: setup.environment)])
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { try! raw.run() }
        }
        Benchmark("ORTSession.run(inputs:outputs:) views, batch \(batch)") { benchmark in
            let setup = Setup.shared
            var (ids, dense) = inputs(batch: batch)
            var output = [Float](repeating: 0, count: batch)
            let shapes: (ORTShape, ORTShape, ORTShape) = ([Int64(batch), 26], [Int64(batch), 13], [Int64(batch), 1])
            ids.withUnsafeMutableBufferPointer { idsBuffer in
                dense.withUnsafeMutableBufferPointer { denseBuffer in
                    output.withUnsafeMutableBufferPointer { outBuffer in
                        let ins = [ORTTensorView(idsBuffer, shape: shapes.0), ORTTensorView(denseBuffer, shape: shapes.1)]
                        let outs = [ORTTensorView(outBuffer, shape: shapes.2)]
                        ins.withUnsafeBufferPointer { inPointer in
                            outs.withUnsafeBufferPointer { outPointer in
                                benchmark.startMeasurement()
                                for _ in benchmark.scaledIterations { try! setup.session.run(inputs: inPointer, outputs: outPointer) }
                            }
                        }
                    }
                }
            }
        }
        Benchmark("ORTSession.run([ORTValue]) ORT-allocated output, batch \(batch)") { benchmark in
            let setup = Setup.shared
            let (ids, dense) = inputs(batch: batch)
            let values = [try! ORTValue(ids, shape: [Int64(batch), 26], environment: setup.environment),
                          try! ORTValue(dense, shape: [Int64(batch), 13], environment: setup.environment)]
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try! setup.session.run(values)) }
        }
    }
}
