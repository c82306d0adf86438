import ClickwiseTestSupport
import Foundation
import Testing
@testable import ONNXRuntime

@Suite("Object lifetime", .serialized)
struct ORTLifetimeTests {
    @Test("10,000 sessions and values come and go with no live objects left and flat RSS")
    func noLeaks() throws {
        let env = Fixtures.environment
        let modelBytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("criteo_tiny.onnx")))
        let options = try Fixtures.options()
        let fixture = try #require(Fixtures.cases[7])
        let survivors = WeakObjects()
        func cycle() throws {
            let session = try modelBytes.withUnsafeBytes { try ORTSession(bytes: $0, options: options, environment: env) }
            let inputs = [try ORTValue(fixture.ids, shape: [7, 26], environment: env), try ORTValue(fixture.dense, shape: [7, 13], environment: env)]
            let out = try session.run(inputs)
            _ = try out[0].array(of: Float.self)
            survivors.track([session] + inputs + out)
        }
        // Warm up allocator arenas and ORT's lazily created singletons before the baseline.
        for _ in 0..<300 { try cycle() }
        let liveBefore = ORTLiveObjects.count
        let rssBefore = residentBytes()
        for _ in 0..<10_000 { try cycle() }
        let rssAfter = residentBytes()
        #expect(survivors.alive == 0)
        // Other suites in this process may hold a few ORT objects right now; a per-cycle leak would show as >= 10,000.
        #expect(abs(ORTLiveObjects.count - liveBefore) < 1_000)
        print("lifetime (in-process, other suites running): RSS \(rssBefore / 1024) KiB -> \(rssAfter / 1024) KiB")
    }

    @Test("in a process of its own, 10,000 create/run/drop cycles leave live objects at baseline and RSS flat")
    func noLeaksInOwnProcess() throws {
        // Other suites allocate in this process, so RSS is measured in a child process that does nothing else.
        let child = try ServeProcess.clickwise(["bench", "ort-lifetime", Fixtures.path("criteo_tiny.onnx"), "--cycles", "10000"], label: "ort-lifetime")
        #expect(try child.waitForExit(timeout: 300) == 0)
        let output = child.output.joined(separator: " ")
        print("lifetime (own process): \(output)")
        let fields = output.split(whereSeparator: \.isWhitespace).map(String.init)
        func value(_ key: String) -> Int? { fields.firstIndex(of: key).flatMap { Int(fields[$0 + 1]) } }
        let liveBefore = try #require(value("live_before")), liveAfter = try #require(value("live_after"))
        let growth = try #require(value("growth_kib"))
        #expect(liveBefore == liveAfter)
        // A leaked 17 KB model per session would add ~170 MB; allow allocator noise only.
        #expect(growth < 16 * 1024)
    }
}

/// Weak references to every wrapper a cycle created, to prove each one was deallocated.
final class WeakObjects {
    private struct Entry { weak var object: AnyObject? }
    private var entries: [Entry] = []
    func track(_ objects: [AnyObject]) { entries.append(contentsOf: objects.map { Entry(object: $0) }) }
    var alive: Int { entries.filter { $0.object != nil }.count }
}
