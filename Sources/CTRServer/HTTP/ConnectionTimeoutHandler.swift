import NIOCore
import NIOHTTP1

/// Enforces one connection's header deadline, body timeout and keep-alive idle timeout (`ConnectionTimerState`).
///
/// Sits between NIO's request decoder and `HTTPHandler`, where it sees decoded request parts and the replies
/// written back; its `ByteWatcher`, placed in front of the decoder, reports raw bytes, so the header deadline
/// starts at a request's first byte rather than once its head is complete. A mid-request timeout answers 408
/// with the server's JSON error body and closes; an idle connection is closed without a response.
///
/// One timer per connection, armed lazily: state changes only move the deadline, and the timer re-arms itself
/// for the remaining time when it fires early, so a keep-alive request costs no timer scheduling in the usual
/// case (`IdleStateHandler` would also fire on every trickled byte and never close by itself).
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline when the server is at its connection limit: stalled connections give way.
    struct PressureEvent: Sendable {
        /// How long a connection must have been idle or stalled mid-request to be closed.
        var grace: TimeAmount
    }

    /// Reports raw bytes to the timeout handler; goes in front of the HTTP decoder.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let owner: ConnectionTimeoutHandler

        init(reportingTo owner: ConnectionTimeoutHandler) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived()
            context.fireChannelRead(data)
        }
    }

    private var state: ConnectionTimerState
    private var timer: Scheduled<Void>?
    private var timerDeadline: UInt64 = .max
    private var context: ChannelHandlerContext?
    private var version = HTTPVersion.http1_1
    private var timedOut = false
    private let workerHeader: String?

    init(timeouts: ConnectionTimerState.Timeouts, workerIndex: Int?) {
        state = ConnectionTimerState(timeouts: timeouts, now: NIODeadline.now().uptimeNanoseconds)
        workerHeader = workerIndex.map { "\(HTTPHandler.workerHeaderName): \($0)\r\n" }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    fileprivate func bytesArrived() {
        state.bytesArrived(now: NIODeadline.now().uptimeNanoseconds)
        armTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !timedOut else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            version = head.version
            state.headReceived(now: NIODeadline.now().uptimeNanoseconds)
        case .body:
            break  // the watcher saw its bytes
        case .end:
            state.endReceived(now: NIODeadline.now().uptimeNanoseconds)
        }
        armTimer()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        state.replyWritten(now: NIODeadline.now().uptimeNanoseconds)
        armTimer()
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let pressure = event as? PressureEvent {
            let now = NIODeadline.now().uptimeNanoseconds
            if state.isStalled(now: now, grace: UInt64(max(0, pressure.grace.nanoseconds))) {
                if let message = state.pressureMessage { respondTimeout(context: context, message: message) } else { closeQuietly(context: context) }
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // Arms the timer only when the deadline moved earlier than the armed one; a later deadline is picked up
    // when the armed timer fires.
    private func armTimer() {
        guard let context, !timedOut, let deadline = state.deadline, deadline < timerDeadline else { return }
        timer?.cancel()
        schedule(at: deadline, context: context)
    }

    private func schedule(at deadline: UInt64, context: ChannelHandlerContext) {
        timerDeadline = deadline
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) { bound.value.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = .max
        guard let context, !timedOut else { return }
        switch state.timerFired(now: NIODeadline.now().uptimeNanoseconds) {
        case .wait(let until):
            if let until { schedule(at: until, context: context) }
        case .closeIdle:
            closeQuietly(context: context)
        case .requestTimeout(let message):
            respondTimeout(context: context, message: message)
        }
    }

    private func closeQuietly(context: ChannelHandlerContext) {
        timedOut = true
        context.close(promise: nil)
    }

    private func respondTimeout(context: ChannelHandlerContext, message: String) {
        timedOut = true
        let reply = HTTPReply.error(.requestTimeout, message)
        let bytes = HTTPResponseWriter.response(reply, version: version, close: true, workerHeader: workerHeader, omitBody: false,
                                                allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
    }
}
