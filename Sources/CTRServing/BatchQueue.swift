#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bounded queue between request handlers and inference threads, which also forms batches.
///
/// A free inference thread takes the oldest job and every following job that still fits in `maxRows`;
/// with `maxDelayNanoseconds` > 0 it waits up to that long after the oldest job arrived for more rows.
/// With `maxRows` 1 each job is its own run: exactly a plain session pool. Guarded by a pthread mutex with a
/// monotonic-clock condition variable (a Swift `Mutex` cannot wait), hence `@unchecked Sendable`.
final class BatchQueue: @unchecked Sendable {
    enum SubmitResult: Equatable { case accepted, full, stopped }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var ring: [InferenceJob?]
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
    func submit(_ job: InferenceJob) -> SubmitResult {
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
    func nextBatch(into batch: inout [InferenceJob]) -> Bool {
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

    private func takeFitting(into batch: inout [InferenceJob], rows: inout Int) {
        while count > 0, let next = ring[head], rows + next.rows <= maxRows {
            _ = popFront()
            batch.append(next)
            rows += next.rows
        }
    }

    private func popFront() -> InferenceJob {
        let job = ring[head]!
        ring[head] = nil
        head = (head + 1) % capacity
        count -= 1
        return job
    }
}
