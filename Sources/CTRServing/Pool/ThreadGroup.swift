import Foundation
import Synchronization

/// Dedicated OS threads (not the Swift concurrency pool, which must never block on ONNX Runtime) and joining them.
final class ThreadGroup: Sendable {
    private struct State {
        var running = 0
        var finished = false
    }

    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new named thread.
    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.running += 1 }
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Waits until every started thread has returned; later calls return at once.
    func joinAll() {
        let toJoin = state.withLock { state -> Int in
            guard !state.finished else { return 0 }
            state.finished = true
            return state.running
        }
        for _ in 0..<toJoin { done.wait() }
    }
}
