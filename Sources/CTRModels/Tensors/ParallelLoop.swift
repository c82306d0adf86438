import Dispatch

/// Splits a loop over batch rows into contiguous chunks run on several threads.
///
/// Used for the many small per-row products (attention) that OpenBLAS runs single-threaded.
/// Each chunk must write only to memory owned by its rows (or by its worker index).
enum ParallelLoop {
    /// Calls `body(range, worker)` for `threads` contiguous slices of `0..<count`, and waits for all.
    static func run(count: Int, threads: Int, _ body: (Range<Int>, Int) -> Void) {
        let workers = min(max(threads, 1), count)
        if workers <= 1 {
            body(0..<count, 0)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = ChunkBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count * worker / workers, end = count * (worker + 1) / workers
                box.body(start..<end, worker)
            }
        }
    }
}

/// Carries a non-`Sendable` loop body into `concurrentPerform`.
///
/// `@unchecked Sendable` is safe here because `concurrentPerform` returns only after every chunk has
/// run (the body never outlives `run`), and callers give each chunk disjoint rows and scratch memory.
private struct ChunkBody: @unchecked Sendable {
    let body: (Range<Int>, Int) -> Void
}
