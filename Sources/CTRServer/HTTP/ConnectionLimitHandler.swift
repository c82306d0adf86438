import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Caps the open connections of a listening socket without a busy accept loop.
///
/// Sits in the server channel's pipeline and counts the child channels it accepts. At the cap it stops
/// reading the listening socket, so new clients wait in the kernel's backlog (Hummingbird's
/// `MaximumAvailableConnections` does the same), and reads again as soon as a connection closes. While it is
/// at the cap it asks, at once and then every `pressureInterval`, for connections that hold no work and have
/// been idle or stalled mid-request for `pressureGrace` to give way (`onPressure`): without that a slowloris
/// holding every slot would keep out health checks until the header deadline cuts it (Envoy's overload
/// manager shortens the same timeouts under pressure; nginx drains idle keep-alive connections).
///
/// The cap can be passed by at most the connections NIO accepts in one read of the listening socket.
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Channel
    typealias OutboundOut = Channel

    private let maxConnections: Int
    private let pressureGrace: TimeAmount
    private let pressureInterval: TimeAmount
    private let onPressure: @Sendable (TimeAmount) -> Void
    private var open = 0
    private var readWithheld = false
    private var pressureTimer: Scheduled<Void>?
    private var acceptPaused = false

    init(maxConnections: Int, pressureGrace: TimeAmount, pressureInterval: TimeAmount = .milliseconds(250),
         onPressure: @escaping @Sendable (TimeAmount) -> Void) {
        self.maxConnections = maxConnections
        self.pressureGrace = pressureGrace
        self.pressureInterval = pressureInterval
        self.onPressure = onPressure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        child.closeFuture.whenComplete { _ in
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.connectionClosed(context: context)
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if open < maxConnections {
            context.read()
        } else if !readWithheld {
            readWithheld = true
            relievePressure(context: context)
        }
    }

    // Out of descriptors (EMFILE, ENFILE) or memory, NIO keeps the listening socket registered (its read is
    // still pending), so the loop would wake for it at once, again and again; NIO's AcceptBackoffHandler cannot
    // help, since no new read() reaches the pipeline. Turning autoRead off unregisters the socket; it is turned
    // back on after 500 ms (nginx pauses accepting as long), and stalled connections are asked to give way.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let ioError = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(ioError.errnoCode) else {
            context.fireErrorCaught(error)
            return
        }
        guard !acceptPaused, let options = context.channel.syncOptions else { return }
        acceptPaused = true
        try? options.setOption(.autoRead, value: false)
        onPressure(pressureGrace)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(500)) {
            let (handler, context) = bound.value
            handler.acceptPaused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pressureTimer?.cancel()
        pressureTimer = nil
    }

    private func connectionClosed(context: ChannelHandlerContext) {
        open -= 1
        if readWithheld && open < maxConnections {
            readWithheld = false
            pressureTimer?.cancel()
            pressureTimer = nil
            context.read()
        }
    }

    private func relievePressure(context: ChannelHandlerContext) {
        onPressure(pressureGrace)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        pressureTimer = context.eventLoop.scheduleTask(in: pressureInterval) {
            let (handler, context) = bound.value
            handler.pressureTimer = nil
            if handler.readWithheld { handler.relievePressure(context: context) }
        }
    }
}

extension ConnectionLimitHandler {
    /// Descriptors kept back from `--max-connections`'s default for the process's own files.
    ///
    /// Besides the listening socket, each event loop holds an epoll, an event and a timer descriptor, ONNX
    /// Runtime and the model files need a few, logs and the supervisor's pipes a few more; 64 covers that with
    /// room, and an eighth of the limit (nginx stops accepting when its free connections fall under an eighth)
    /// keeps large limits from running to the last descriptor.
    static func reservedDescriptors(limit: Int) -> Int { max(64, limit / 8) }

    /// The default connection cap for a process allowed `limit` descriptors (RLIMIT_NOFILE's soft limit).
    static func defaultMaxConnections(descriptorLimit limit: Int) -> Int {
        max(1, limit - reservedDescriptors(limit: limit))
    }
}
