import ArgumentParser
import CTRFeatures
import CTRServing
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `clickwise tune`: runs live servers through a grid of settings under wrk and recommends one.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Measure serving settings (threads, pool, batching) with live servers under wrk; recommend one.",
        discussion: """
            Starts `clickwise serve` (this binary) on a free port for each configuration, waits for
            /v2/health/ready, runs `wrk -t<wrk-threads> -c<connections> -d<duration>s --latency` with single-row
            raw-feature requests (rows drawn from the bundle's schema and vocabularies, as bench/gen_rows.py draws them),
            stops the server and moves on.
            Prints the table (config, RPS, avg, p99) and the setting with the highest RPS whose p99 stays
            within --p99-budget-ms and that answered every request. The default grid takes about two minutes.
            """)

    @Option(help: "A bundle directory or a repository of <model>/<version>/ bundles.")
    var model: String = "models/deepfm"

    @Option(help: "Seconds of load per configuration.")
    var duration: Double = 5

    @Option(help: "Recommend only settings whose p99 latency is at most this.")
    var p99BudgetMs: Double = 10

    @Option(help: "wrk connections.")
    var connections: Int = 100

    @Option(help: "wrk threads.")
    var wrkThreads: Int = 4

    @Option(name: [.customLong("intra-inter-threads"), .customLong("threads")],
            help: "Comma-separated --intra-threads:--inter-threads pairs to try (--threads: the old name, deprecated).")
    var threads: String = "1:1"

    @Option(help: "Comma-separated pool sizes.")
    var poolSizes: String = "1,2,4"

    @Option(help: "Comma-separated max batch sizes (1 = no batching).")
    var maxBatchSizes: String = "1,32,64"

    @Option(help: "Comma-separated queue delays in µs (used with batch sizes > 1).")
    var queueDelaysUs: String = "0,500"

    @Option(help: "A wrk Lua script taking CLICKWISE_ROWS/CLICKWISE_MODEL (default: a built-in single-row script).")
    var wrkScript: String?

    @Option(help: "More `clickwise serve` flags for every configuration, as one string.")
    var serveFlags: String = ""

    @OptionGroup var runtimeOptions: RuntimeOptions

    /// One point of the grid.
    struct Setting: CustomStringConvertible {
        var intra: Int, inter: Int, pool: Int, batch: Int, delay: Int
        var flags: [String] {
            ["--intra-threads", "\(intra)", "--inter-threads", "\(inter)", "--pool-size", "\(pool)",
             "--max-batch-size", "\(batch)", "--max-queue-delay-us", "\(delay)"]
        }
        var description: String {
            "intra \(intra) inter \(inter) pool \(pool)" + (batch > 1 ? " batch \(batch) delay \(delay)µs" : " no batching")
        }
    }

    /// What one wrk run measured.
    struct Result {
        var setting: Setting
        var rps: Double, avgMs: Double, p50Ms: Double, p99Ms: Double
        var errors: Int, requests: Int
        /// Server CPU seconds (utime + stime) over the wrk run.
        var cpuSeconds: Double
        var cpuMicrosPerRequest: Double { requests > 0 ? cpuSeconds * 1e6 / Double(requests) : 0 }
    }

    private static func integers(_ list: String, _ name: String) throws -> [Int] {
        let values = list.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw ValidationError("--\(name): expected comma-separated integers") }
        return values.map { $0! }
    }

    func validate() throws {
        guard duration >= 1, connections >= 1, wrkThreads >= 1, p99BudgetMs > 0 else {
            throw ValidationError("--duration, --connections, --wrk-threads and --p99-budget-ms must be positive")
        }
        _ = try grid()
    }

    func grid() throws -> [Setting] {
        let pairs = try threads.split(separator: ",").map { pair -> (Int, Int) in
            let parts = pair.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads: expected intra:inter pairs like 1:1,2:1") }
            return (parts[0], parts[1])
        }
        var settings: [Setting] = []
        for (intra, inter) in pairs {
            for pool in try Self.integers(poolSizes, "pool-sizes") where pool >= 1 {
                for batch in try Self.integers(maxBatchSizes, "max-batch-sizes") where batch >= 1 {
                    for delay in batch == 1 ? [0] : try Self.integers(queueDelaysUs, "queue-delays-us") {
                        settings.append(Setting(intra: intra, inter: inter, pool: pool, batch: batch, delay: delay))
                    }
                }
            }
        }
        return settings
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        guard let wrk = Self.findExecutable("wrk") else { throw CLIError("wrk not found on PATH (scripts/setup.sh installs it)") }
        let bundles: [ModelBundle]
        do { bundles = try ModelRepository.discover(model, keepingVocabularyValues: true) } catch { throw CLIError(error.message) }
        guard let bundle = bundles.first else { throw CLIError("\(model): no model bundle") }
        guard let featureMap = bundle.featureMap else { throw CLIError("\(bundle.directory) has no features.json: tune drives the CTR API, which needs one") }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-tune-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let rowsPath = work + "/rows.jsonl"
        try Data(Self.sampleRows(featureMap, count: 400).utf8).write(to: URL(fileURLWithPath: rowsPath))
        let scriptPath = wrkScript ?? (work + "/predict_single.lua")
        if wrkScript == nil { try Data(Self.builtInScript.utf8).write(to: URL(fileURLWithPath: scriptPath)) }

        let settings = try grid()
        print("tuning \(bundle.name) v\(bundle.version): \(settings.count) configurations × \(duration) s, wrk -t\(wrkThreads) -c\(connections), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("")
        print("| config | RPS | avg ms | p50 ms | p99 ms | errors | server CPU µs/req |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        fflush(nil)
        var results: [Result] = []
        for setting in settings {
            do {
                let result = try measure(setting, executable: executable, wrk: wrk, script: scriptPath, rows: rowsPath,
                                         modelName: bundle.name, logPath: work + "/server.log")
                results.append(result)
                print(String(format: "| %@ | %.0f | %.2f | %.2f | %.2f | %d | %.1f |", setting.description, result.rps,
                             result.avgMs, result.p50Ms, result.p99Ms, result.errors, result.cpuMicrosPerRequest))
            } catch {
                print("| \(setting) | failed: \(error) | | | | | |")
            }
            fflush(nil)
        }
        print("")
        let eligible = results.filter { $0.p99Ms <= p99BudgetMs && $0.errors == 0 && $0.rps > 0 }
        if let best = eligible.max(by: { $0.rps < $1.rps }) {
            print(String(format: "recommended (highest RPS with p99 <= %.1f ms): %@ — %.0f RPS, avg %.2f ms, p99 %.2f ms",
                         p99BudgetMs, best.setting.description, best.rps, best.avgMs, best.p99Ms))
            print("  clickwise serve --model \(model) " + best.setting.flags.joined(separator: " ") + (serveFlags.isEmpty ? "" : " " + serveFlags))
        } else if let fastest = results.max(by: { $0.rps < $1.rps }) {
            print(String(format: "no configuration kept p99 <= %.1f ms without errors; fastest: %@ — %.0f RPS, p99 %.2f ms",
                         p99BudgetMs, fastest.setting.description, fastest.rps, fastest.p99Ms))
        }
    }

    /// Starts a server with `setting`, loads it with wrk, stops it.
    private func measure(_ setting: Setting, executable: String, wrk: String, script: String, rows: String,
                         modelName: String, logPath: String) throws -> Result {
        let port = try ServeCommand.freePort(host: "127.0.0.1")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: executable)
        var arguments = ["serve", "--model", model, "--host", "127.0.0.1", "--port", "\(port)"] + setting.flags
        if let library = runtimeOptions.ortLibrary { arguments += ["--ort-library", library] }
        arguments += serveFlags.split(separator: " ").map(String.init)
        server.arguments = arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer {
            if server.isRunning {
                kill(server.processIdentifier, SIGTERM)
                server.waitUntilExit()
            }
            try? log.close()
        }
        let deadline = Date().addingTimeInterval(60)
        while Self.httpStatus(port: port, path: "/v2/health/ready") != 200 {
            guard server.isRunning, Date() < deadline else {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw CLIError("server did not become ready: \(text.split(separator: "\n").last ?? "")")
            }
            usleep(50_000)
        }
        let load = Process()
        load.executableURL = URL(fileURLWithPath: wrk)
        load.arguments = ["-t\(wrkThreads)", "-c\(connections)", "-d\(Int(duration.rounded(.up)))s", "--latency", "-s", script, "http://127.0.0.1:\(port)"]
        var environment = ProcessInfo.processInfo.environment
        environment["CLICKWISE_ROWS"] = rows
        environment["CLICKWISE_MODEL"] = modelName
        load.environment = environment
        let output = Pipe()
        load.standardOutput = output
        load.standardError = output
        let cpuBefore = Self.cpuTicks(pid: server.processIdentifier)
        try load.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        load.waitUntilExit()
        let cpu = Double(Self.cpuTicks(pid: server.processIdentifier) - cpuBefore) / Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let parsed = WrkReport(text) else { throw CLIError("cannot read wrk output: \(text.prefix(300))") }
        return Result(setting: setting, rps: parsed.rps, avgMs: parsed.avgMs, p50Ms: parsed.p50Ms, p99Ms: parsed.p99Ms,
                      errors: parsed.errors, requests: parsed.requests, cpuSeconds: cpu)
    }

    /// utime + stime of `pid` in clock ticks.
    static func cpuTicks(pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 12 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// The status of `GET path` on 127.0.0.1:port, or nil when nothing answers.
    static func httpStatus(port: Int, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 12 else { return nil }
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Raw rows for `map`'s schema as bench/gen_rows.py draws them (``SampleRowGenerator``), one JSON instance a line.
    static func sampleRows(_ map: FeatureMap, count: Int) -> String {
        var random = SystemRandomNumberGenerator()
        return SampleRowGenerator(map: map).jsonLines(count: count, using: &random)
    }

    /// The single-row wrk script (as bench/wrk/predict_single.lua, self-contained).
    static let builtInScript = """
        local requests = {}
        local index = 0
        function init(args)
          local path = "/v1/models/" .. os.getenv("CLICKWISE_MODEL") .. ":predict"
          for line in io.lines(os.getenv("CLICKWISE_ROWS")) do
            if #line > 0 then
              requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, '{"instances":[' .. line .. ']}')
            end
          end
          index = math.random(#requests)
        end
        function request()
          index = index % #requests + 1
          return requests[index]
        end
        """
}

/// The numbers of one `wrk --latency` report.
struct WrkReport {
    var rps: Double, avgMs: Double, p50Ms: Double, p99Ms: Double, requests: Int, errors: Int

    init?(_ text: String) {
        var rps: Double?, avg: Double?, p50: Double?, p99: Double?, requests = 0, errors = 0
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            switch first {
            case "Requests/sec:": rps = words.count > 1 ? Double(words[1]) : nil
            case "Latency" where avg == nil && words.count > 1: avg = Self.milliseconds(words[1])
            case "50%" where words.count > 1: p50 = Self.milliseconds(words[1])
            case "99%" where words.count > 1: p99 = Self.milliseconds(words[1])
            case "Non-2xx": errors += Int(words.last ?? "") ?? 0
            case "Socket":  // Socket errors: connect 0, read 0, write 0, timeout 0
                errors += words.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(0, +)
            default:
                if words.count > 2, words[1] == "requests", words[2] == "in" { requests = Int(first) ?? 0 }
            }
        }
        guard let rps, let avg, let p50, let p99 else { return nil }
        self.rps = rps; avgMs = avg; p50Ms = p50; p99Ms = p99; self.requests = requests; self.errors = errors
    }

    /// "812.00us" / "1.23ms" / "1.02s" -> milliseconds.
    static func milliseconds(_ text: Substring) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("m", 60_000.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(text)
    }
}
