/// What one connection is doing, as far as its timeouts care, and when the current phase runs out.
///
/// A plain value (no NIO) so it can be tested without sockets; `ConnectionTimeoutHandler` feeds it the events
/// of its connection and acts on what `timerFired` returns. The phases:
/// - `idle`: no request in progress (a fresh or keep-alive connection); closed silently after the idle timeout.
/// - `readingHead`: the first byte of a request has arrived, its head has not been decoded yet; one deadline
///   from that byte for the whole head (trickled bytes do not extend it: nginx's `client_header_timeout`).
/// - `readingBody`: the head is decoded, the body is not complete; the timeout runs between reads.
/// - `awaitingReply`: a whole request was received and its reply is not written yet; no timer runs, so
///   in-flight inference is never cut. Parts of a pipelined next request arriving meanwhile are remembered
///   and their phase starts once the reply is written.
/// A timeout of 0 disables that timer.
struct ConnectionTimerState: Sendable, Equatable {
    enum Phase: Sendable, Equatable {
        case idle, readingHead, readingBody, awaitingReply
    }

    /// The three limits, in nanoseconds.
    struct Timeouts: Sendable, Equatable {
        var head: UInt64
        var body: UInt64
        var idle: UInt64
    }

    /// What the connection handler must do when its timer fires.
    enum Action: Sendable, Equatable {
        /// Nothing is due: arm the timer for this instant (nil: leave it unarmed until the next event).
        case wait(until: UInt64?)
        /// Close without a response (idle keep-alive connection).
        case closeIdle
        /// Answer 408 naming the limit, then close.
        case requestTimeout(String)
    }

    private let timeouts: Timeouts
    // The phase of the request being received, ignoring replies still owed.
    private var receiving: Phase = .idle
    // When `receiving` began (idle, head) or last saw bytes (body).
    private var since: UInt64
    // Requests fully received whose reply is not written yet.
    private var pendingReplies = 0

    init(timeouts: Timeouts, now: UInt64) {
        self.timeouts = timeouts
        self.since = now
    }

    var phase: Phase { pendingReplies > 0 ? .awaitingReply : receiving }

    /// Raw bytes arrived (before HTTP decoding).
    mutating func bytesArrived(now: UInt64) {
        switch receiving {
        case .idle:
            receiving = .readingHead
            since = now
        case .readingBody:
            since = now
        case .readingHead, .awaitingReply:
            break
        }
    }

    /// A request head was decoded.
    mutating func headReceived(now: UInt64) {
        receiving = .readingBody
        since = now
    }

    /// A request's end was decoded: its reply is now owed.
    mutating func endReceived(now: UInt64) {
        pendingReplies += 1
        receiving = .idle
        since = now
    }

    /// A response was written. Writes while no reply is owed (`100 Continue`) change nothing.
    mutating func replyWritten(now: UInt64) {
        guard pendingReplies > 0 else { return }
        pendingReplies -= 1
        // The next request's clock starts now: its bytes waited while the server was busy with the previous one.
        if pendingReplies == 0 { since = now }
    }

    /// When the current phase times out (nil: never, e.g. while a reply is owed).
    var deadline: UInt64? {
        let limit: UInt64
        switch phase {
        case .awaitingReply: return nil
        case .idle: limit = timeouts.idle
        case .readingHead: limit = timeouts.head
        case .readingBody: limit = timeouts.body
        }
        return limit == 0 ? nil : since &+ limit
    }

    /// Whether the connection is stalled for at least `grace` in a phase that holds no work (closing it under
    /// connection pressure loses nothing the server owes).
    func isStalled(now: UInt64, grace: UInt64) -> Bool {
        phase != .awaitingReply && now >= since && now - since >= grace
    }

    /// What to do when the timer fires at `now`.
    func timerFired(now: UInt64) -> Action {
        guard let deadline, now >= deadline else { return .wait(until: deadline) }
        switch phase {
        case .idle, .awaitingReply:
            return .closeIdle
        case .readingHead:
            return .requestTimeout("request head not received within \(Self.seconds(timeouts.head)) s (--request-header-timeout-secs)")
        case .readingBody:
            return .requestTimeout("no request body bytes for \(Self.seconds(timeouts.body)) s (--request-body-timeout-secs)")
        }
    }

    /// The 408 text for a connection closed under pressure while mid-request.
    var pressureMessage: String? {
        switch phase {
        case .readingHead, .readingBody: return "request too slow while the server is at its connection limit (--max-connections)"
        case .idle, .awaitingReply: return nil
        }
    }

    private static func seconds(_ nanoseconds: UInt64) -> String {
        nanoseconds % 1_000_000_000 == 0 ? String(nanoseconds / 1_000_000_000) : String(Double(nanoseconds) / 1e9)
    }
}
