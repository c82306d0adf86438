import CTRServer
import CTRServing
import Dispatch
import FuzzSupport
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// Sees every response the handler writes: it must be an HTTP/1.1 status line, and never a 500 (every bad request
/// is the client's fault, so only a bug in the server answers 500). Signals `written` so the fuzzer wakes up.
private final class ResponseWatch: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let written: DispatchSemaphore

    init(written: DispatchSemaphore) { self.written = written }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        let head = buffer.getString(at: buffer.readerIndex, length: min(12, buffer.readableBytes)) ?? ""
        precondition(head.hasPrefix("HTTP/1."), "a response that does not start with a status line: \(head)")
        precondition(!head.hasSuffix(" 500"), "a 500 response: \(String(buffer: buffer))")
        context.write(data, promise: promise)
        written.signal()
    }
}

/// The server as `clickwise serve --model models/deepfm` builds it, warmed up, shared by every input.
private let routes: HTTPRoutes = {
    var configuration = ServerConfiguration(modelPath: FuzzInput.packageRoot + "/models/deepfm")
    configuration.maxRowsPerRequest = 64
    configuration.maxBodyBytes = 64 << 10
    do throws(ServingError) {
        let core = try InferenceCore.build(configuration)
        try core.warmUp()
        return HTTPRoutes(core: core)
    } catch {
        fatalError("cannot serve models/deepfm: \(error.message)")
    }
}()

// A thread-safe test loop: inference threads hand replies back with `execute`, which EmbeddedEventLoop forbids
// off its own thread; this loop runs such tasks on its queue, and everything else here goes through `submit`.
private let loop = NIOAsyncTestingEventLoop()
private let written = DispatchSemaphore(value: 0)
private let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 40000)

// Any bytes as what one client sent on one connection: NIO's request decoder, then our handler, with the real
// model behind it. Each input waits for every reply it caused (inference finishes on another thread), so
// inputs never overlap and a run is repeatable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPHandler(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput.bytes(data, size)
    // An unload that succeeds would make every later input a 404 for the one model (coverage lost for good);
    // the repository routes' parsing is still fuzzed through index and load.
    if input.firstRange(of: Array("unload".utf8)) != nil { return 0 }
    let channel = NIOAsyncTestingChannel(loop: loop)
    var buffer = channel.allocator.buffer(capacity: input.count)
    buffer.writeBytes(input)
    let request = buffer
    let routes = routes, written = written, peer = peer
    try! loop.submit {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(ResponseWatch(written: written))
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try pipeline.addHandler(HTTPHandler(routes: routes))
        channel.connect(to: peer, promise: nil)
        channel.pipeline.fireChannelRead(request)
        channel.pipeline.fireChannelReadComplete()
    }.wait()
    awaitReplies()
    // The client goes away: NIO's decoder sees the end of the stream, which may finish (or fail) a request.
    try! loop.submit { channel.close(promise: nil) }.wait()
    awaitReplies()
    return 0
}

/// Returns once no request is in flight; the count is read on the loop, where the handler changes it.
private func awaitReplies() {
    let core = routes.core
    while try! loop.submit({ core.inFlightRequests }).wait() > 0 {
        // A reply written to a connection already closed passes no handler, hence the bounded wait.
        _ = written.wait(timeout: .now() + .milliseconds(5))
    }
}
