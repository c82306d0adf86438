import ArgumentParser
import Foundation
import ONNXRuntime

/// `clickwise bench`: measurements that need a process of their own.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measurements: ONNX Runtime object lifetime, the compute ceiling.",
        subcommands: [ORTLifetime.self, Ceiling.self, HTTPBaseline.self, FixtureBundle.self, CSVRead.self])
}

extension BenchCommand {
    /// Creates and drops sessions and values in a loop and reports live ORT objects and RSS before and after.
    struct ORTLifetime: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ort-lifetime",
            abstract: "Create/run/drop N sessions and values; print live ORT objects and RSS growth (a leak check).")

        @Argument(help: "An ONNX model taking sparse_ids int64 [B,26] and dense float [B,13].")
        var model: String

        @Option(help: "Create/run/drop cycles after warm-up.")
        var cycles: Int = 10_000

        @OptionGroup var runtimeOptions: RuntimeOptions

        func run() throws {
            let runtime = try runtimeOptions.loadRuntime()
            let environment = try ORTEnvironment.make(runtime: runtime, settings: .init(logLevel: .error))
            let options = try ORTSessionOptions(runtime: runtime)
            try options.setIntraOpThreads(1)
            guard let bytes = FileManager.default.contents(atPath: model) else { throw CLIError("\(model): cannot read") }
            let ids = [Int64](repeating: 1, count: 7 * 26)
            let dense = [Float](repeating: 0.5, count: 7 * 13)
            func cycle() throws {
                let session = try bytes.withUnsafeBytes { try ORTSession(bytes: $0, options: options, environment: environment) }
                let outputs = try session.run([ORTValue(ids, shape: [7, 26], environment: environment),
                                               ORTValue(dense, shape: [7, 13], environment: environment)])
                _ = try outputs[0].array(of: Float.self)
            }
            for _ in 0..<300 { try cycle() }
            let liveBefore = ORTLiveObjects.count
            let rssBefore = residentKiB()
            for _ in 0..<cycles { try cycle() }
            let rssAfter = residentKiB()
            print("cycles \(cycles) live_before \(liveBefore) live_after \(ORTLiveObjects.count) rss_before_kib \(rssBefore) rss_after_kib \(rssAfter) growth_kib \(rssAfter - rssBefore)")
        }

        private func residentKiB() -> Int {
            guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
            let pages = Int(text.split(separator: " ")[1]) ?? 0
            return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        }
    }
}
