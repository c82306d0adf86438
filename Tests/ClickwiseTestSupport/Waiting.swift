import Foundation

/// Waits until `condition` holds, checking every `interval` seconds, for at most `timeout` seconds; returns
/// whether it held. Tests wait on the condition they need (a request queued, clients answered), never on a
/// fixed sleep that stands in for it, and never without a deadline.
public func waitUntil(timeout: Double = 30, interval: Double = 0.0005, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        guard Date() < deadline else { return false }
        usleep(useconds_t(interval * 1_000_000))
    }
}

/// ``waitUntil(timeout:interval:_:)`` from async code, sleeping the task instead of the thread (for conditions
/// that last: a brief state, such as a run in progress, is better caught by the blocking form's tight loop).
public func pollUntil(timeout: Double = 30, interval: Double = 0.0005, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        if try condition() { return true }
        guard Date() < deadline else { return false }
        try? await Task.sleep(for: .seconds(interval))
    }
}
