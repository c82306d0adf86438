#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A job the batch queue holds: its rows, its deadline, and when it arrived.
protocol QueuedJob: AnyObject {
    var rows: Int { get }
    /// Monotonic ns after which the job is dropped unrun; 0 = no deadline.
    var deadline: UInt64 { get }
    var enqueuedAt: UInt64 { get set }
}

/// The bounded queue between request handlers and inference threads, which also forms batches.
///
/// A free inference thread takes the oldest job and every following job that still fits in `maxRows`;
/// with `maxDelayNanoseconds` > 0 it waits up to that long after the oldest job arrived for more rows.
/// With `maxRows` 1 each job is its own run: exactly a plain session pool. Guarded by a pthread mutex with a
/// monotonic-clock condition variable (a Swift `Mutex` cannot wait), hence `@unchecked Sendable`.
final class BatchQueue<Job: QueuedJob>: @unchecked Sendable {
    enum SubmitResult: Equatable { case accepted, full, stopped }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var ring: [Job?]
    private var head = 0
    private var count = 0
    private var stopping = false
    let capacity: Int
    let maxRows: Int
    let maxDelayNanoseconds: UInt64

    init(capacity: Int, maxRows: Int, maxDelayNanoseconds: UInt64) {
        self.capacity = max(1, capacity)
        self.maxRows = max(1, maxRows)
        self.maxDelayNanoseconds = maxDelayNanoseconds
        ring = Array(repeating: nil, count: self.capacity)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Jobs waiting right now.
    var depth: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count
    }

    /// Enqueues a job unless the queue is full or stopping.
    func submit(_ job: Job) -> SubmitResult {
        job.enqueuedAt = MonotonicClock.nanoseconds()
        pthread_mutex_lock(mutex)
        if stopping {
            pthread_mutex_unlock(mutex)
            return .stopped
        }
        if count == capacity {
            pthread_mutex_unlock(mutex)
            return .full
        }
        ring[(head + count) % capacity] = job
        count += 1
        pthread_mutex_unlock(mutex)
        pthread_cond_signal(condition)
        return .accepted
    }

    /// Blocks until a batch is ready and fills `batch` with it; returns false once stopped and drained.
    func nextBatch(into batch: inout [Job]) -> Bool {
        batch.removeAll(keepingCapacity: true)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while count == 0 {
            if stopping { return false }
            pthread_cond_wait(condition, mutex)
        }
        let first = popFront()
        batch.append(first)
        var rows = first.rows
        takeFitting(into: &batch, rows: &rows)
        guard maxDelayNanoseconds > 0, rows < maxRows else { return true }
        let deadline = first.enqueuedAt &+ maxDelayNanoseconds
        while rows < maxRows && !stopping {
            let now = MonotonicClock.nanoseconds()
            if now >= deadline { break }
            if count > 0 {
                // The next job does not fit: waiting longer cannot grow this batch.
                break
            }
            var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            pthread_cond_timedwait(condition, mutex, &until)
            takeFitting(into: &batch, rows: &rows)
        }
        if count > 0 { pthread_cond_signal(condition) }
        return true
    }

    /// Stops accepting jobs and wakes every waiting thread; queued jobs are still handed out.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    private func takeFitting(into batch: inout [Job], rows: inout Int) {
        while count > 0, let next = ring[head], rows + next.rows <= maxRows {
            _ = popFront()
            batch.append(next)
            rows += next.rows
        }
    }

    private func popFront() -> Job {
        let job = ring[head]!
        ring[head] = nil
        head = (head + 1) % capacity
        count -= 1
        return job
    }
}

extension BatchQueue {
    /// Queues a job; a full queue or a stopping pool refuses it at once without calling its completion.
    func enqueue(_ job: Job, metrics: ServingMetrics) throws(ServingError) {
        switch submit(job) {
        case .accepted:
            return
        case .full:
            metrics.queueRejected()
            throw ServingError(.queueFull, "the inference queue is full (\(capacity) requests waiting); retry shortly")
        case .stopped:
            throw ServingError(.shuttingDown, "the server is shutting down")
        }
    }

    /// An inference thread's loop: takes batches until the queue stops and drains, fails the jobs whose
    /// deadline passed in the queue, and hands the rest to `run` with their queue waits (seconds).
    func serve(metrics: ServingMetrics, expired: (Job, ServingError) -> Void, run: ([Job], [Double]) -> Void) {
        var batch: [Job] = []
        var live: [Job] = []
        var waits: [Double] = []
        batch.reserveCapacity(64)
        live.reserveCapacity(64)
        waits.reserveCapacity(64)
        while nextBatch(into: &batch) {
            let now = MonotonicClock.nanoseconds()
            live.removeAll(keepingCapacity: true)
            waits.removeAll(keepingCapacity: true)
            for job in batch {
                let wait = MonotonicClock.seconds(from: job.enqueuedAt, to: now)
                if job.deadline != 0 && now > job.deadline {
                    metrics.deadlineExpired(queueWait: wait)
                    expired(job, ServingError(.deadlineExpired, "request deadline expired after \(Int(wait * 1_000)) ms in the queue; nothing was run"))
                    continue
                }
                live.append(job)
                waits.append(wait)
            }
            batch.removeAll(keepingCapacity: true)
            guard !live.isEmpty else { continue }
            run(live, waits)
        }
    }
}
