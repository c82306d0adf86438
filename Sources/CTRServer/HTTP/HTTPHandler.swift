import CTRServing
import NIOCore
import NIOHTTP1

/// One connection's request handling: collects a request, hands it to the application, writes the reply.
///
/// Sits right behind NIO's request decoder and writes each response as one buffer of bytes (see
/// `HTTPResponseWriter`). Pipelined requests are answered in order: while a reply is pending, decoded parts
/// wait in a queue (and reads are held back while it is not empty), so at most one request per connection is
/// being handled at a time.
package final class HTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline when the server starts draining.
    struct DrainEvent: Sendable {}

    private let routes: HTTPRoutes
    private let core: InferenceCore
    private let maxBodyBytes: Int
    private let workerHeader: String?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var busy = false
    private var draining = false
    private var closing = false
    // A request was dispatched and its reply is not written yet: later requests wait, in order.
    private var awaitingReply = false
    private var queuedParts = CircularBuffer<HTTPServerRequestPart>()
    private var readHeld = false
    private var startedAt: UInt64 = 0
    private var route = Route.notFound
    // Clients reuse a connection for one endpoint: parse each new target once.
    private var lastURI = ""
    private var lastRoute = Route.notFound
    private var scratch = DecodedInstances(reservingRows: 1)

    /// `workerIndex` (with `--workers`) adds `x-clickwise-worker: <index>` to every response, so clients, tests
    /// and nginx checks can tell which process answered.
    package init(routes: HTTPRoutes, workerIndex: Int? = nil) {
        self.routes = routes
        self.core = routes.core
        self.maxBodyBytes = routes.core.configuration.maxBodyBytes
        self.workerHeader = workerIndex.map { "\(Self.workerHeaderName): \($0)\r\n" }
    }

    /// The response header naming the `--workers` process that answered.
    static let workerHeaderName = "x-clickwise-worker"

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if awaitingReply || !queuedParts.isEmpty {
            queuedParts.append(part)
        } else {
            process(part, context: context)
        }
    }

    // Reads are held back only once a pipelined request is queued: holding them for every pending reply would
    // cost two epoll_ctl calls per request, and a client that waits for its answer sends nothing meanwhile.
    package func read(context: ChannelHandlerContext) {
        if !queuedParts.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        guard !closing else { return }
        switch part {
        case .head(let requestHead):
            // A request that has started arriving is answered even if draining begins before its end.
            busy = true
            head = requestHead
            body = nil
            bodyTooLarge = false
            if let length = requestHead.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxBodyBytes {
                bodyTooLarge = true
            } else if requestHead.headers.first(name: "expect")?.lowercased() == "100-continue" {
                // curl sends this for bodies over 1 KiB and would otherwise wait a second before sending.
                context.writeAndFlush(wrapOutboundOut(HTTPResponseWriter.continueResponse(version: requestHead.version, allocator: context.channel.allocator)),
                                      promise: nil)
            }
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            if body!.readableBytes > maxBodyBytes {
                bodyTooLarge = true
                body = nil
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            startedAt = MonotonicClock.nanoseconds()
            core.requestStarted()
            route = routeFor(requestHead.uri)
            let isHead = requestHead.method == .HEAD
            if bodyTooLarge {
                // The rest of an oversized body may still be arriving: answer and close.
                draining = true
                finish(context: context, version: requestHead.version, keepAlive: false, isHead: isHead,
                       reply: .error(.payloadTooLarge, "request body exceeds \(maxBodyBytes) bytes (--max-body-bytes)"))
                return
            }
            let keepAlive = requestHead.isKeepAlive
            let version = requestHead.version
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let requestBody = body
            body = nil
            awaitingReply = true
            if let reply = routes.handle(route: route, head: requestHead, body: requestBody, scratch: &scratch, respond: { reply in
                eventLoop.execute {
                    let bound = loopBound.value
                    bound.handler.finish(context: bound.context, version: version, keepAlive: keepAlive, isHead: isHead, reply: reply)
                    bound.handler.resumeQueued(context: bound.context)
                }
            }) {
                finish(context: context, version: version, keepAlive: keepAlive, isHead: isHead, reply: reply)
            }
        }
    }

    private func routeFor(_ uri: String) -> Route {
        if uri != lastURI {
            lastURI = uri
            lastRoute = Route(uri: uri)
        }
        return lastRoute
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            if !busy { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A request NIO's decoder cannot parse: answer 400 unless a reply is already owed, then close.
        if let parseError = error as? HTTPParserError, !awaitingReply, !closing {
            closing = true
            let reply = HTTPReply.error(.badRequest, "malformed HTTP request: \(parseError)")
            let bytes = HTTPResponseWriter.response(reply, version: .http1_1, close: true, workerHeader: workerHeader, omitBody: false,
                                                    allocator: context.channel.allocator)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.close(promise: nil)
    }

    /// Answers the requests that arrived while a reply was pending, in order, then lets reads resume.
    private func resumeQueued(context: ChannelHandlerContext) {
        while !awaitingReply, !closing, let part = queuedParts.popFirst() {
            process(part, context: context)
        }
        if closing { queuedParts.removeAll() }
        if !awaitingReply && queuedParts.isEmpty && readHeld && !closing {
            readHeld = false
            context.read()
        }
    }

    private func finish(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, isHead: Bool, reply: HTTPReply) {
        let close = !keepAlive || draining
        let bytes = HTTPResponseWriter.response(reply, version: version, close: close, workerHeader: workerHeader, omitBody: isHead,
                                                allocator: context.channel.allocator)
        busy = false
        awaitingReply = false
        core.requestFinished(route: route.metricsIndex, status: Int(reply.status.code), startedAt: startedAt)
        if close {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)  // no future to allocate on the hot path
        }
    }
}
