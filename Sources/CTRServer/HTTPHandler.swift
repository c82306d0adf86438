import CTRServing
import NIOCore
import NIOHTTP1

/// One connection's request handling: collects a request, hands it to the application, writes the reply.
///
/// Lives on its channel's event loop. HTTP pipelining is serialized by NIO's pipeline handler in front of it,
/// so at most one request per connection is being handled at a time.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Sent through the pipeline when the server starts draining.
    struct DrainEvent: Sendable {}

    private let application: ServerApplication
    private let maxBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var busy = false
    private var draining = false
    private var startedAt: UInt64 = 0
    private var route = Route.notFound
    // Clients reuse a connection for one endpoint: parse each new target once.
    private var lastURI = ""
    private var lastRoute = Route.notFound
    private var scratch = DecodedInstances(reservingRows: 1)

    init(application: ServerApplication) {
        self.application = application
        self.maxBodyBytes = application.configuration.maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
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
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .continue))), promise: nil)
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
            application.metrics.requestStarted()
            if bodyTooLarge {
                route = routeFor(requestHead.uri)
                // The rest of an oversized body may still be arriving: answer and close.
                draining = true
                finish(context: context, version: requestHead.version, keepAlive: false,
                       reply: .error(.payloadTooLarge, "request body exceeds \(maxBodyBytes) bytes (--max-body-bytes)"))
                return
            }
            route = routeFor(requestHead.uri)
            let keepAlive = requestHead.isKeepAlive
            let version = requestHead.version
            let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let requestBody = body
            body = nil
            if let reply = application.handle(route: route, head: requestHead, body: requestBody, scratch: &scratch, respond: { reply in
                eventLoop.execute {
                    let bound = loopBound.value
                    bound.handler.finish(context: bound.context, version: version, keepAlive: keepAlive, reply: reply)
                }
            }) {
                finish(context: context, version: version, keepAlive: keepAlive, reply: reply)
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            if !busy { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func finish(context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, reply: HTTPReply) {
        let close = !keepAlive || draining
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + reply.extraHeaders.count)
        headers.add(name: "content-type", value: reply.contentType)
        headers.add(name: "content-length", value: String(reply.body.readableBytes))
        for (name, value) in reply.extraHeaders { headers.add(name: name, value: value) }
        if close {
            headers.add(name: "connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: reply.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        busy = false
        application.metrics.requestFinished(route: route.metricsIndex, status: Int(reply.status.code),
                                            seconds: MonotonicClock.seconds(from: startedAt, to: MonotonicClock.nanoseconds()))
        if close {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
