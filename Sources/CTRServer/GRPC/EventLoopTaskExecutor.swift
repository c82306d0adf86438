import NIOCore
import NIOPosix

/// A task executor over an event loop group: a job enqueued on one of the process's event loop threads
/// runs on that loop, any other job on the group's next loop.
///
/// The gRPC server's tasks prefer it (``GRPCFrontEnd``). grpc-swift runs every call's handler as a task,
/// which by default runs on Swift's cooperative pool, so a unary call went event loop → pool → inference
/// thread → pool → event loop. Under this preference the call is read, handled and answered on the event
/// loop that read it, and the inference thread's continuation resumes straight onto a loop: two hops, as
/// HTTP has. It is safe because no gRPC handler blocks: ONNX Runtime runs on the pool's own threads.
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
