import NIOCore
import NIOHTTP1

/// Adds `x-clickwise-worker: <index>` to every response head, so clients, tests and nginx checks can tell
/// which `--workers` process answered. Only installed when the server runs as a worker.
final class WorkerHeaderHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let headerName = "x-clickwise-worker"
    private let value: String

    init(workerIndex: Int) {
        value = String(workerIndex)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        head.headers.add(name: Self.headerName, value: value)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
