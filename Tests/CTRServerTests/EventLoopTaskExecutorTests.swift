import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import CTRServer

@Suite("EventLoopTaskExecutor (real NIO event loops and threads)")
struct EventLoopTaskExecutorTests {
    /// Suspends until `loop` resumes the caller, from inside that loop.
    private static func resumed(by loop: any EventLoop) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { continuation.resume() }
        }
    }

    @Test("a task that prefers it runs on an event loop, also after a plain thread resumes its continuation")
    func runsOnLoopAfterForeignResume() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopTaskExecutor(group: group)
        let onLoop = await Task(executorPreference: executor) { () async -> [Bool] in
            var seen = [MultiThreadedEventLoopGroup.currentEventLoop != nil]
            for _ in 0..<5 {
                // What an inference thread does with a gRPC handler's continuation.
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    Thread { continuation.resume() }.start()
                }
                seen.append(MultiThreadedEventLoopGroup.currentEventLoop != nil)
            }
            return seen
        }.value
        #expect(onLoop == [Bool](repeating: true, count: 6))
        try await group.shutdownGracefully()
    }

    @Test("work resumed by an event loop stays on that loop (a connection's calls stay on its loop)")
    func staysOnTheResumingLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let executor = EventLoopTaskExecutor(group: group)
        let loops = Array(group.makeIterator())
        for target in loops {
            let sameLoop = await Task(executorPreference: executor) { () async -> [Bool] in
                var seen: [Bool] = []
                // Round-robin over the group would put every other step on the other loop.
                for _ in 0..<6 {
                    await Self.resumed(by: target)
                    seen.append(MultiThreadedEventLoopGroup.currentEventLoop === target)
                }
                return seen
            }.value
            #expect(sameLoop == [Bool](repeating: true, count: 6))
        }
        try await group.shutdownGracefully()
    }

    @Test("child tasks of a task group inherit the preference (grpc-swift runs each call as one)")
    func childTasksInherit() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopTaskExecutor(group: group)
        let onLoop = await Task(executorPreference: executor) { () async -> [Bool] in
            await withTaskGroup(of: Bool.self) { tasks in
                for _ in 0..<8 {
                    tasks.addTask {
                        await Task.yield()
                        return MultiThreadedEventLoopGroup.currentEventLoop != nil
                    }
                }
                return await tasks.reduce(into: []) { $0.append($1) }
            }
        }.value
        #expect(onLoop == [Bool](repeating: true, count: 8))
        try await group.shutdownGracefully()
    }
}
