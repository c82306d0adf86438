import CTRGRPCProtocol
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf

/// One HTTP/2 connection of the gRPC front end, served at the frame level: every call of the connection
/// is an entry in one dictionary, read and answered on the connection's event loop.
///
/// Why not grpc-swift's server: it gives every call an HTTP/2 child channel with its own pipeline, an
/// async inbound sequence and an async writer, run through generic code that is not specialised across
/// modules; measured on 2026-12-02 (docs/BENCHMARKS.md) that cost 2.8× HTTP's server CPU per single-row
/// request, with our handler under 3 % of it. Here a unary call is a few frames through `NIOHTTP2Handler`
/// (which still does the framing, HPACK, flow-control accounting and the protocol's checks) and one
/// entry in a dictionary. It is the one gRPC server (issue 23 removed grpc-swift's, which the tests still use as a client).
///
/// Flow control: without NIO's stream multiplexer, inbound windows are this handler's job; it tops the
/// connection's and each open stream's window back up to ``Options/windowBytes`` when half is used, as
/// the multiplexer does.
final class GRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// Asks the connection to stop taking calls (GOAWAY), finish the ones in flight, then close.
    struct DrainEvent {}

    /// Per-connection settings.
    struct Options {
        var maxRequestBytes: Int
        var windowBytes: Int
        var workerIndex: Int?
        /// A connection with no calls for this long gets GOAWAY and is closed (nil = never), like HTTP's
        /// keep-alive timeout; it also ends connections that never send the HTTP/2 preface.
        var idleTimeout: TimeAmount? = nil
        /// A call still receiving its request (mid-message, or a unary call not yet ended by the client)
        /// that gets no bytes for this long fails with DEADLINE_EXCEEDED (nil = never), like HTTP's body timeout.
        var receiveTimeout: TimeAmount? = nil
    }

    /// One call (one HTTP/2 stream) between its request headers and its stream's closing.
    private struct Call {
        let method: GRPCMethod
        let timeout: UInt64?
        /// Received bytes not yet a whole message.
        var pending: ByteBuffer?
        /// A non-streaming method's one request, run when the client has finished sending.
        var request: ByteBuffer?
        var clientFinished = false
        var headersSent = false
        /// Trailers sent: whatever still arrives or completes for this call is dropped.
        var finished = false
        /// ModelStreamInfer's inferences not yet answered.
        var inferencesRunning = 0
        var deadline: Scheduled<Void>?
        /// The core's registration of this Watch call (``HealthWatchers``).
        var watch: Int?
        var watchedStatus: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
        /// When the call last received bytes (its headers, then each DATA frame).
        var lastReceived: NIODeadline

        /// Waiting on the client for (the rest of) a request: what ``Options/receiveTimeout`` ends.
        var receiving: Bool {
            !finished && (pending != nil || (!method.streamsRequests && !clientFinished))
        }
    }

    private let calls: GRPCCalls
    private let options: Options
    private let responseHeaders: HPACKHeaders
    private var context: ChannelHandlerContext?
    private var streams: [HTTP2StreamID: Call] = [:]
    private var highestStreamID = HTTP2StreamID.rootStream
    private var draining = false
    private var flushScheduled = false
    /// When the connection last had no calls (or was opened): the idle timeout counts from here.
    private var idleSince = NIODeadline.now()
    private var timeouts: RepeatedTask?

    init(calls: GRPCCalls, options: Options) {
        self.calls = calls
        self.options = options
        responseHeaders = GRPCWire.responseHeaders(workerIndex: options.workerIndex)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        idleSince = .now()
        let enabled = [options.idleTimeout, options.receiveTimeout].compactMap { $0 }
        if let shortest = enabled.min() {
            // One check per connection a few times per timeout, not a timer per frame: a timeout is
            // enforced within a quarter of itself late, at no cost on the request path.
            let period = TimeAmount.nanoseconds(max(10_000_000, shortest.nanoseconds / 4))
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            timeouts = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                bound.value.checkTimeouts()
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        endAll()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A connection-level protocol error: NIOHTTP2Handler has sent GOAWAY; nothing of this connection can go on.
        context.close(promise: nil)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers):
            received(headers, on: frame.streamID)
        case .data(let data):
            guard case .byteBuffer(let bytes) = data.data else { return }
            received(bytes, endStream: data.endStream, on: frame.streamID)
        case .rstStream:
            // The client cancelled: its answer, if one comes, is dropped.
            streams[frame.streamID]?.finished = true
            end(frame.streamID)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfScheduled()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? NIOHTTP2WindowUpdatedEvent {
            refillWindow(event)
        } else if let event = event as? StreamClosedEvent {
            end(event.streamID)
        } else if event is DrainEvent {
            beginDraining()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func received(_ headers: HTTP2Frame.FramePayload.Headers, on id: HTTP2StreamID) {
        if streams[id] != nil {
            // Headers after the first block can only be the client's trailers, which end its side.
            if headers.endStream { clientFinished(id) }
            return
        }
        highestStreamID = max(highestStreamID, id)
        let fields = headers.headers
        guard fields.first(name: "content-type")?.hasPrefix("application/grpc") == true else {
            // The gRPC spec's answer to a non-gRPC request: HTTP 415, no gRPC status.
            write(.headers(.init(headers: [":status": "415"], endStream: true)), on: id)
            if !headers.endStream { write(.rstStream(.noError), on: id) }
            scheduleFlush()
            return
        }
        guard let path = fields.first(name: ":path"), let method = GRPCMethod(path: Substring(path)) else {
            let path = fields.first(name: ":path") ?? "(none)"
            write(.headers(.init(headers: GRPCWire.errorTrailers(ServerError(.unimplemented, "method \(path) is not served here"), headers: responseHeaders),
                                 endStream: true)), on: id)
            if !headers.endStream { write(.rstStream(.noError), on: id) }
            scheduleFlush()
            return
        }
        let timeoutText = fields.first(name: "grpc-timeout")
        let timeout = GRPCCalls.timeout(timeoutText)
        var call = Call(method: method, timeout: timeout, lastReceived: .now())
        if let timeout, let timeoutText, let context {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            call.deadline = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: timeout))) {
                bound.value.fail(id, ServerError(.deadlineExceeded, "deadline exceeded (grpc-timeout \(timeoutText))"))
            }
        }
        streams[id] = call
        if headers.endStream { clientFinished(id) }
    }

    private func received(_ bytes: ByteBuffer, endStream: Bool, on id: HTTP2StreamID) {
        guard let call = streams[id], !call.finished else { return }
        streams[id]?.lastReceived = .now()
        var buffer: ByteBuffer
        let owned = call.pending != nil
        if var pending = call.pending {
            // Taken out of the table first, so the append below grows the only copy instead of copying it.
            streams[id]?.pending = nil
            var bytes = bytes
            pending.writeBuffer(&bytes)
            buffer = pending
        } else {
            buffer = bytes
        }
        while true {
            switch GRPCWire.nextMessage(&buffer, maxBytes: options.maxRequestBytes) {
            case .message(let message):
                guard receivedMessage(message, on: id) else { return }
                continue
            case .incomplete:
                if buffer.readableBytes > 0 { streams[id]?.pending = owned ? buffer : GRPCWire.pendingMessage(buffer) }
            case .refused(let error):
                fail(id, error)
                return
            }
            break
        }
        if endStream { clientFinished(id) }
    }

    /// Takes one whole request message; false when the call has ended because of it.
    private func receivedMessage(_ message: ByteBuffer, on id: HTTP2StreamID) -> Bool {
        guard let call = streams[id] else { return false }
        if call.method.streamsRequests {
            streamInfer(message, on: id)
            return streams[id]?.finished == false
        }
        guard call.request == nil else {
            fail(id, ServerError(.invalidArgument, "more than one request message on a unary call"))
            return false
        }
        streams[id]?.request = message
        return true
    }

    private func clientFinished(_ id: HTTP2StreamID) {
        guard var call = streams[id], !call.finished, !call.clientFinished else { return }
        call.clientFinished = true
        streams[id] = call
        guard call.pending == nil else {
            return fail(id, ServerError(.invalidArgument, "the request stream ended inside a message"))
        }
        if call.method.streamsRequests {
            if call.inferencesRunning == 0 { succeed(id) }
            return
        }
        guard let request = call.request else {
            return fail(id, ServerError(.invalidArgument, "no request message on a unary call"))
        }
        streams[id]?.request = nil
        run(call.method, request, on: id)
    }

    // MARK: - Methods

    private func run(_ method: GRPCMethod, _ request: ByteBuffer, on id: HTTP2StreamID) {
        let calls = self.calls
        switch method {
        case .modelInfer:
            modelInfer(request, on: id)
        case .serverLive:
            unary(request, on: id, route: .health) { (message: Inference_ServerLiveRequest) in calls.serverLive(message) }
        case .serverReady:
            unary(request, on: id, route: .health) { (message: Inference_ServerReadyRequest) in calls.serverReady(message) }
        case .modelReady:
            unary(request, on: id, route: .health) { (message: Inference_ModelReadyRequest) throws(ServerError) in try calls.modelReady(message) }
        case .serverMetadata:
            unary(request, on: id, route: .metadata) { (message: Inference_ServerMetadataRequest) in calls.serverMetadata(message) }
        case .modelMetadata:
            unary(request, on: id, route: .metadata) { (message: Inference_ModelMetadataRequest) throws(ServerError) in try calls.modelMetadata(message) }
        case .modelConfig:
            unary(request, on: id, route: .metadata) { (message: Inference_ModelConfigRequest) throws(ServerError) in try calls.modelConfig(message) }
        case .modelStatistics:
            unary(request, on: id, route: .metadata) { (message: Inference_ModelStatisticsRequest) throws(ServerError) in try calls.modelStatistics(message) }
        case .repositoryIndex:
            unary(request, on: id, route: .repository) { (message: Inference_RepositoryIndexRequest) in calls.repositoryIndex(message) }
        case .repositoryModelLoad:
            offLoop(request, on: id) { (message: Inference_RepositoryModelLoadRequest) in await calls.repositoryModelLoad(message) }
        case .repositoryModelUnload:
            offLoop(request, on: id) { (message: Inference_RepositoryModelUnloadRequest) in await calls.repositoryModelUnload(message) }
        case .healthCheck:
            unary(request, on: id, route: .health) { (message: Grpc_Health_V1_HealthCheckRequest) throws(ServerError) in
                var response = Grpc_Health_V1_HealthCheckResponse()
                response.status = try calls.healthStatus(of: message.service)
                return response
            }
        case .healthWatch:
            healthWatch(request, on: id)
        case .modelStreamInfer:
            break  // streamsRequests: never run as unary
        }
    }

    private func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ bytes: ByteBuffer, on id: HTTP2StreamID, route: RPCRoute, _ body: (Request) throws(ServerError) -> Response
    ) {
        let answer = GRPCWire.decode(Request.self, bytes)
            .flatMap { request in calls.counted(route) { () throws(ServerError) in try body(request) } }
            .flatMap(GRPCWire.framed)
        answered(id, answer, last: true)
    }

    /// A unary method that blocks (model load and unload): run as a task, answered back on the loop.
    private func offLoop<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ bytes: ByteBuffer, on id: HTTP2StreamID, _ body: @escaping @Sendable (Request) async -> Result<Response, ServerError>
    ) {
        guard let request = decoded(GRPCWire.decode(Request.self, bytes), on: id), let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        Task {
            let answer = await body(request).flatMap(GRPCWire.framed)
            loop.execute { bound.value.answered(id, answer, last: true) }
        }
    }

    /// The request, or nil once the call has failed saying why it does not decode.
    private func decoded<Request>(_ reading: Result<Request, ServerError>, on id: HTTP2StreamID) -> Request? {
        switch reading {
        case .success(let request): return request
        case .failure(let error):
            fail(id, error)
            return nil
        }
    }

    /// Runs `body` on `loop`: at once when already there (a request refused before it queued), else as a loop task.
    private static func onLoop(_ loop: EventLoop, _ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    private func modelInfer(_ bytes: ByteBuffer, on id: HTTP2StreamID) {
        guard let context, let call = streams[id], let request = decoded(GRPCCalls.ReceivedInfer.reading(bytes), on: id) else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        calls.modelInfer(request, timeout: call.timeout) { answer in
            // Written on the inference thread, while the loop serves other calls.
            Self.onLoop(loop) { bound.value.answered(id, answer, last: true) }
        }
    }

    /// One ModelStreamInfer request: inferred concurrently with the stream's others, answered when done;
    /// a bad request's error travels in the stream (`error_message`) and the stream goes on.
    private func streamInfer(_ bytes: ByteBuffer, on id: HTTP2StreamID) {
        guard let context, let call = streams[id], let request = decoded(GRPCCalls.ReceivedInfer.reading(bytes), on: id) else { return }
        streams[id]?.inferencesRunning += 1
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let (model, version, requestID) = (request.modelName, request.modelVersion, request.id)
        calls.modelInfer(request, timeout: call.timeout, route: .streamInfer, streamed: true) { result in
            let answer = result.flatMapError { error in
                GRPCWire.framed(GRPCCalls.streamError(error, model: model, version: version, id: requestID))
            }
            Self.onLoop(loop) { bound.value.streamAnswered(id, answer) }
        }
    }

    private func streamAnswered(_ id: HTTP2StreamID, _ answer: Result<ByteBuffer, ServerError>) {
        guard var call = streams[id], !call.finished else { return }
        call.inferencesRunning -= 1
        streams[id] = call
        answered(id, answer, last: call.clientFinished && call.inferencesRunning == 0)
    }

    /// Sends the status now and again on every change until the client goes away or the server drains: the
    /// core tells its watchers when readiness may have changed, and this call re-checks on its event loop.
    private func healthWatch(_ bytes: ByteBuffer, on id: HTTP2StreamID) {
        guard let context, let service = decoded(GRPCWire.decode(Grpc_Health_V1_HealthCheckRequest.self, bytes), on: id)?.service else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        streams[id]?.watch = calls.core.healthWatchers.add {
            loop.execute { bound.value.healthTick(service, on: id) }
        }
        healthTick(service, on: id)
    }

    private func healthTick(_ service: String, on id: HTTP2StreamID) {
        guard let call = streams[id], !call.finished else { return }
        let now: Grpc_Health_V1_HealthCheckResponse.ServingStatus
        do throws(ServerError) {
            now = try calls.healthStatus(of: service)
        } catch {
            return fail(id, error)
        }
        guard now != call.watchedStatus else { return }
        streams[id]?.watchedStatus = now
        var message = Grpc_Health_V1_HealthCheckResponse()
        message.status = now
        answered(id, GRPCWire.framed(message), last: false)
    }

    // MARK: - Outbound

    /// Sends one response message (after the headers, if not yet sent); `last` ends the call with OK.
    private func answered(_ id: HTTP2StreamID, _ answer: Result<ByteBuffer, ServerError>, last: Bool) {
        guard var call = streams[id], !call.finished else { return }
        let message: ByteBuffer
        switch answer {
        case .success(let bytes): message = bytes
        case .failure(let error): return fail(id, error)
        }
        if !call.headersSent {
            write(.headers(.init(headers: responseHeaders, endStream: false)), on: id)
            call.headersSent = true
        }
        write(.data(.init(data: .byteBuffer(message), endStream: false)), on: id)
        streams[id] = call
        if last { succeed(id) } else { scheduleFlush() }
    }

    private func succeed(_ id: HTTP2StreamID) {
        guard var call = streams[id], !call.finished else { return }
        if !call.headersSent {
            write(.headers(.init(headers: responseHeaders, endStream: false)), on: id)
            call.headersSent = true
        }
        write(.headers(.init(headers: GRPCWire.okTrailers, endStream: true)), on: id)
        finish(&call, id)
    }

    /// Ends the call with `error`'s status (a trailers-only response if nothing was sent yet).
    private func fail(_ id: HTTP2StreamID, _ error: ServerError) {
        guard var call = streams[id], !call.finished else { return }
        let trailers = GRPCWire.errorTrailers(error, headers: call.headersSent ? nil : responseHeaders)
        write(.headers(.init(headers: trailers, endStream: true)), on: id)
        finish(&call, id)
    }

    private func finish(_ call: inout Call, _ id: HTTP2StreamID) {
        call.finished = true
        call.deadline?.cancel()
        call.deadline = nil
        if let watch = call.watch { calls.core.healthWatchers.remove(watch) }
        call.watch = nil
        // A client still sending is told to stop (gRPC servers reset with NO_ERROR after the trailers).
        if !call.clientFinished { write(.rstStream(.noError), on: id) }
        streams[id] = call
        scheduleFlush()
    }

    private func write(_ payload: HTTP2Frame.FramePayload, on id: HTTP2StreamID) {
        context?.write(wrapOutboundOut(HTTP2Frame(streamID: id, payload: payload)), promise: nil)
    }

    /// Flushes once after the answers that are queued on the loop right now: a batch's answers, each its
    /// own loop task, leave in one `writev`, and a lone answer is not delayed (its flush is the next task).
    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { bound.value.flushIfScheduled() }
    }

    private func flushIfScheduled() {
        guard flushScheduled else { return }
        flushScheduled = false
        context?.flush()
    }

    // MARK: - Flow control and lifecycle

    private func refillWindow(_ event: NIOHTTP2WindowUpdatedEvent) {
        guard let inbound = event.inboundWindowSize, inbound <= options.windowBytes / 2 else { return }
        if event.streamID != .rootStream {
            // Only a stream the client is still sending on needs room; others are done reading.
            guard let call = streams[event.streamID], !call.clientFinished, !call.finished else { return }
        }
        write(.windowUpdate(windowSizeIncrement: options.windowBytes - inbound), on: event.streamID)
        scheduleFlush()
    }

    /// The stream has closed (both sides done, or reset): forget its call.
    private func end(_ id: HTTP2StreamID) {
        guard let call = streams.removeValue(forKey: id) else { return }
        call.deadline?.cancel()
        if let watch = call.watch { calls.core.healthWatchers.remove(watch) }
        if streams.isEmpty { idleSince = .now() }
        closeIfDrained()
    }

    private func endAll() {
        timeouts?.cancel()
        timeouts = nil
        for call in streams.values {
            call.deadline?.cancel()
            if let watch = call.watch { calls.core.healthWatchers.remove(watch) }
        }
        streams.removeAll()
    }

    /// Closes an idle connection (GOAWAY first, so clients reconnect without failing a call) and fails
    /// calls whose request stopped arriving: neither may hold a connection and its descriptor forever.
    private func checkTimeouts() {
        let now = NIODeadline.now()
        if let idle = options.idleTimeout, streams.isEmpty, !draining, now - idleSince >= idle {
            return beginDraining()
        }
        guard let receive = options.receiveTimeout else { return }
        for (id, call) in streams where call.receiving && now - call.lastReceived >= receive {
            fail(id, ServerError(.deadlineExceeded, "no request bytes for \(receive.nanoseconds / 1_000_000) ms while receiving the request (--request-body-timeout-secs)"))
        }
    }

    private func beginDraining() {
        guard !draining, let context else { return }
        draining = true
        // The streams this connection has seen run to the end; newer ones are refused, so the client retries them elsewhere.
        write(.goAway(lastStreamID: highestStreamID, errorCode: .noError, opaqueData: nil), on: .rootStream)
        // Watches last as long as the client wants: a draining server ends them.
        for (id, call) in streams where call.method == .healthWatch && !call.finished { succeed(id) }
        context.flush()
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard draining, streams.values.allSatisfy(\.finished), let context else { return }
        // Flush what the last call wrote, then close; the stream-closed events of those calls come first.
        context.flush()
        if streams.isEmpty { context.close(promise: nil) }
    }
}
