import ArgumentParser
import CTRFeatures
import CTRServing
import Foundation
import ONNXRuntime
import Synchronization

extension BenchCommand {
    /// The compute ceiling of issue 5: rows/s of in-process ONNX Runtime at a large batch on all cores,
    /// with nothing else (no HTTP, no JSON, no encoding) — what a server could reach at best.
    struct Ceiling: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ceiling",
            abstract: "Rows/s of in-process ONNX Runtime at batch 64, one session per core on dedicated threads (the compute ceiling).")

        @Argument(help: "A bundle directory or a repository (the newest version of the first model is used).")
        var model: String

        @Option(help: "Rows per Run.")
        var batchSize: Int = 64

        @Option(name: [.customLong("pool-size"), .customLong("threads")],
                help: "Inference threads, one session each, as serve's --pool-size (0 = one per core; --threads: the old name, deprecated).")
        var threads: Int = 0

        @Option(help: "ONNX Runtime threads inside one Run.")
        var intraThreads: Int = 1

        @Option(help: "Seconds to measure (after 1 s of warm-up).")
        var duration: Double = 5

        @Flag(help: "One shared session run concurrently by all threads instead of one session per thread.")
        var sharedSession = false

        @OptionGroup var runtimeOptions: RuntimeOptions

        func validate() throws {
            guard batchSize >= 1, threads >= 0, intraThreads >= 1, duration > 0 else {
                throw ValidationError("--batch-size, --intra-threads and --duration must be positive, --threads >= 0")
            }
        }

        func run() throws {
            let bundle: ModelBundle
            do {
                guard let first = try ModelRepository.discover(model, keepingVocabularyValues: true).first else { throw CLIError("\(model): no model bundle") }
                bundle = first
            } catch let error as ServingError {
                throw CLIError(error.message)
            }
            let runtime = try runtimeOptions.loadRuntime()
            let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
            guard let map = bundle.featureMap, let encoder = bundle.encoder else { throw CLIError("\(bundle.directory) has no features.json: the ceiling bench encodes raw rows, which needs one") }
            let sessions: [ORTSession]
            do {
                let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .error))
                let options = try ORTSessionOptions(runtime: runtime)
                try options.setIntraOpThreads(intraThreads)
                try options.setInterOpThreads(1)
                let weights = try ORTPrepackedWeights(environment: environment)
                sessions = try (0..<(sharedSession ? 1 : threadCount)).map { _ in
                    try ORTSession(path: bundle.modelPath, options: options, environment: environment, prepackedWeights: weights)
                }
            } catch {
                throw CLIError("cannot load \(bundle.modelPath): \((error as? ORTError)?.message ?? "\(error)")")
            }
            // Realistic inputs, encoded as the server would: raw rows drawn from the bundle's schema and
            // vocabularies (some OOV and missing), fed to every input its signature declares.
            var generator = SystemRandomNumberGenerator()
            let batch = SampleRowGenerator(map: map).encodedBatch(count: batchSize, encoder: encoder, using: &generator)
            let inputIDs = batch.ids, inputDense = batch.dense, inputSequences = batch.sequences
            // Fed as the server feeds it: by the signature, through the same InputLayout.
            do {
                try InputLayout.checkSignature(of: sessions[0], map: map, path: bundle.modelPath)
            } catch {
                throw CLIError(error.message)
            }
            let layout = InputLayout(signature: map.signature)

            let measuring = Atomic<Int>(0)  // 0 warm-up, 1 measuring, 2 stop
            let counts = Mutex<[Int]>([])
            let failure = Mutex<String?>(nil)
            var workers: [Thread] = []
            let done = DispatchGroup()
            for index in 0..<threadCount {
                let session = sessions[sharedSession ? 0 : index]
                done.enter()
                let thread = Thread { [batchSize] in
                    defer { done.leave() }
                    var ids = inputIDs, dense = inputDense, sequences = inputSequences
                    var output = [Float](repeating: 0, count: batchSize)
                    var runs = 0
                    ids.withUnsafeMutableBufferPointer { idBuffer in
                        dense.withUnsafeMutableBufferPointer { denseBuffer in
                            sequences.withUnsafeMutableBufferPointer { sequenceBuffer in
                                output.withUnsafeMutableBufferPointer { outputBuffer in
                                    while true {
                                        let phase = measuring.load(ordering: .relaxed)
                                        if phase == 2 { break }
                                        if let error = layout.run(session, ids: idBuffer, dense: denseBuffer, sequences: sequenceBuffer,
                                                                  output: outputBuffer, rows: batchSize) {
                                            failure.withLock { $0 = error.message }
                                            return
                                        }
                                        if phase == 1 { runs += 1 }
                                    }
                                }
                            }
                        }
                    }
                    counts.withLock { $0.append(runs) }
                }
                thread.name = "clickwise-ceiling-\(index)"
                workers.append(thread)
                thread.start()
            }
            Thread.sleep(forTimeInterval: 1)
            let cpuBefore = Self.processCPUSeconds()
            let start = ContinuousClock.now
            measuring.store(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: duration)
            measuring.store(2, ordering: .relaxed)
            let elapsed = (ContinuousClock.now - start) / .seconds(1)
            let cpu = Self.processCPUSeconds() - cpuBefore
            done.wait()
            if let message = failure.withLock({ $0 }) { throw CLIError("Run failed: \(message)") }
            let runs = counts.withLock { $0.reduce(0, +) }
            let rows = Double(runs * batchSize)
            let rowsPerSecond = rows / elapsed
            print("model \(bundle.name) v\(bundle.version) (\(bundle.modelPath))")
            print("batch \(batchSize), \(threadCount) threads, \(sharedSession ? "one shared session" : "one session each"), intra \(intraThreads), \(String(format: "%.1f", elapsed)) s")
            print(String(format: "ceiling_rows_per_s %.0f   runs %d   µs/row (wall, all threads) %.2f   CPU µs/row %.2f   CPU s/s %.2f",
                         rowsPerSecond, runs, 1e6 / rowsPerSecond, cpu * 1e6 / max(rows, 1), cpu / elapsed))
        }

        /// User+system CPU of this process so far, in seconds.
        static func processCPUSeconds() -> Double {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
    }
}
