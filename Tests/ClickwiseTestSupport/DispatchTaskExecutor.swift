import Dispatch

/// Runs async jobs on a dispatch queue instead of Swift's cooperative pool.
///
/// Other suites block the cooperative pool (one thread per core, two here) with synchronous waits on
/// sockets and child processes; an in-process async server (grpc-swift) on that pool would stall behind
/// them. Tests run such servers and their clients with `withTaskExecutorPreference(DispatchTaskExecutor.shared)`.
public final class DispatchTaskExecutor: TaskExecutor {
    /// One executor for every test that needs it.
    public static let shared = DispatchTaskExecutor()

    private let queue = DispatchQueue(label: "clickwise.tests.async", attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
