import CTRData
import Foundation
import Logging
import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The served predictions as CSV files a training run reads as they are (`serve --prediction-log DIR`): one
/// directory per model, files named by the time they were opened, rotated by size and age, a header naming the
/// columns (request id, time, model, version, candidate index, the bundle's schema columns, the prediction).
///
/// Requests hand finished lines to ``append(model:header:lines:records:)``, which only queues them; one background
/// thread writes. A slow or full disk therefore never blocks or fails a request: past `maxPendingBytes` waiting,
/// records are dropped and counted (`clickwise_prediction_log_dropped_total`), a failed write drops its records,
/// closes the file (the next write opens a new one) and says so in the log, at most every 10 s. Each write is whole
/// lines, so a crash or a full disk leaves at most one torn line at the end of a file, which readers skip.
public final class PredictionLog: Sendable {
    /// Where and how much to log.
    public struct Settings: Sendable, Equatable {
        /// The directory holding one subdirectory per model.
        public var directory: String
        /// The share of requests logged, 0...1 (whole requests: all of a ranking request's candidates or none).
        public var sampleRate = 1.0
        /// A file is closed and a new one opened past this size...
        public var maxFileBytes = 64 << 20
        /// ...or this age.
        public var maxFileSeconds = 3600.0
        /// Lines waiting for the writer past which new ones are dropped.
        public var maxPendingBytes = 16 << 20

        /// Logs into `directory` with the defaults.
        public init(directory: String) { self.directory = directory }
    }

    private struct Chunk {
        let model: String
        let header: [UInt8]
        var lines: [UInt8]
        var records: Int
    }

    private struct Queue {
        var chunks: [Chunk] = []
        var bytes = 0
        var stopping = false
    }

    /// One model's open file.
    private struct OpenFile {
        let descriptor: Int32
        let header: [UInt8]
        let path: String
        var bytes: Int
        let opened: Double
    }

    public let settings: Settings
    private static let earlyWakeBytes = 1 << 20
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let written: Counter
    private let dropped: Counter
    private let logger: Logger
    private let droppedTotal = Atomic<Int>(0)
    private let writtenTotal = Atomic<Int>(0)

    /// Creates `settings.directory` and starts the writer; the error names the directory.
    public init(settings: Settings, registry: PrometheusCollectorRegistry, logger: Logger) throws(ServingError) {
        do {
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        } catch {
            throw ServingError(.modelLoad, "--prediction-log \(settings.directory): \(error.localizedDescription)")
        }
        guard access(settings.directory, W_OK) == 0 else {
            throw ServingError(.modelLoad, "--prediction-log \(settings.directory): not writable")
        }
        self.settings = settings
        self.logger = logger
        written = registry.makeCounter(descriptor: .init("clickwise_prediction_log_records_total", help: "Prediction records written to the prediction log."))
        dropped = registry.makeCounter(descriptor: .init(
            "clickwise_prediction_log_dropped_total", help: "Prediction records dropped: the writer fell behind or a write failed (the log says why)."))
        let thread = Thread { [self] in run() }
        thread.name = "clickwise-prediction-log"
        thread.start()
    }

    /// Whether to log the next request (`sampleRate`).
    public func sample() -> Bool {
        settings.sampleRate >= 1 || (settings.sampleRate > 0 && Double(CheapRandom.next() >> 11) * 0x1p-53 < settings.sampleRate)
    }

    /// Records written so far, and dropped so far.
    public var counts: (written: Int, dropped: Int) { (writtenTotal.load(ordering: .relaxed), droppedTotal.load(ordering: .relaxed)) }

    /// The subdirectory of a model's directory that holds its shadow version's predictions.
    public static let shadowDirectory = OnlineEvaluation.shadowDirectory

    /// Queues `records` whole lines of `model` whose file starts with `header` (a different header starts a new
    /// file); never blocks on the disk.
    public func append(model: String, header: [UInt8], lines: [UInt8], records: Int) {
        // The writer wakes every 50 ms by itself; a request wakes it early only when a megabyte is waiting, so the
        // common request pays a lock, not a system call.
        let (accepted, backlog) = queue.withLock { queue -> (Bool, Bool) in
            guard !queue.stopping, queue.bytes + lines.count <= settings.maxPendingBytes else { return (false, false) }
            let before = queue.bytes
            queue.chunks.append(Chunk(model: model, header: header, lines: lines, records: records))
            queue.bytes += lines.count
            return (true, before < Self.earlyWakeBytes && queue.bytes >= Self.earlyWakeBytes)
        }
        if !accepted {
            drop(records)
        } else if backlog {
            wake.signal()
        }
    }

    /// Writes what is queued, closes the files and stops the writer. Idempotent.
    public func stop() {
        let first = queue.withLock { queue -> Bool in
            defer { queue.stopping = true }
            return !queue.stopping
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    private func drop(_ records: Int) {
        droppedTotal.add(records, ordering: .relaxed)
        dropped.increment(by: Int64(records))
    }

    private func run() {
        var files: [String: OpenFile] = [:]
        var lastComplaint = -Double.infinity
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(50))
            let (chunks, stopping) = queue.withLock { queue -> ([Chunk], Bool) in
                defer {
                    queue.chunks.removeAll(keepingCapacity: true)
                    queue.bytes = 0
                }
                return (queue.chunks, queue.stopping)
            }
            // One write per model per wake-up, not one per request: at tens of thousands of single-row requests a
            // second the system calls, not the bytes, were the cost (bench/prediction_log.sh).
            var merged: [Chunk] = []
            for chunk in chunks {
                if let index = merged.firstIndex(where: { $0.model == chunk.model && $0.header == chunk.header }) {
                    merged[index].lines.append(contentsOf: chunk.lines)
                    merged[index].records += chunk.records
                } else {
                    merged.append(chunk)
                }
            }
            for chunk in merged {
                if let failure = write(chunk, files: &files) {
                    drop(chunk.records)
                    let now = MonotonicClock.seconds(from: 0, to: MonotonicClock.nanoseconds())
                    if now - lastComplaint >= 10 {
                        lastComplaint = now
                        logger.error("prediction log: \(failure); dropping records (clickwise_prediction_log_dropped_total counts them)")
                    }
                } else {
                    writtenTotal.add(chunk.records, ordering: .relaxed)
                    written.increment(by: Int64(chunk.records))
                }
            }
            if stopping {
                for file in files.values { close(file.descriptor) }
                finished.signal()
                return
            }
        }
    }

    /// Writes one chunk to its model's file, opening or rotating it first; the reason when it failed (the file is
    /// then closed, so the next chunk starts a fresh one after at most one torn line).
    private func write(_ chunk: Chunk, files: inout [String: OpenFile]) -> String? {
        let now = Date().timeIntervalSince1970
        if let file = files[chunk.model], file.header != chunk.header || file.bytes >= settings.maxFileBytes
            || now - file.opened >= settings.maxFileSeconds {
            close(file.descriptor)
            files[chunk.model] = nil
        }
        if files[chunk.model] == nil {
            let directory = (settings.directory as NSString).appendingPathComponent(chunk.model)
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                return "cannot create \(directory): \(error.localizedDescription)"
            }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withFractionalSeconds]
            var path = (directory as NSString).appendingPathComponent("predictions-\(formatter.string(from: Date()).replacingOccurrences(of: ":", with: "")).csv")
            var attempt = 1
            while FileManager.default.fileExists(atPath: path) {
                attempt += 1
                path = String(path.dropLast(4)) + "-\(attempt).csv"
            }
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
            var file = OpenFile(descriptor: descriptor, header: chunk.header, path: path, bytes: 0, opened: now)
            if let failure = Self.writeAll(chunk.header, to: descriptor) {
                close(descriptor)
                // A file without its whole header would be read as data: it goes.
                unlink(path)
                return "cannot write \(path): \(failure)"
            }
            file.bytes = chunk.header.count
            files[chunk.model] = file
        }
        guard var file = files[chunk.model] else { return nil }
        if let failure = Self.writeAll(chunk.lines, to: file.descriptor) {
            // A full disk can take part of a write: cut the file back to its last whole record, so no reader
            // ever sees a line that looks whole but is not (a prediction cut after "0.4" of "0.45").
            _ = ftruncate(file.descriptor, off_t(file.bytes))
            close(file.descriptor)
            files[chunk.model] = nil
            return "cannot write \(file.path): \(failure)"
        }
        file.bytes += chunk.lines.count
        files[chunk.model] = file
        return nil
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> String? {
        bytes.withUnsafeBytes { raw -> String? in
            var offset = 0
            while offset < raw.count {
                let wrote = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if wrote < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += wrote
            }
            return nil
        }
    }
}
