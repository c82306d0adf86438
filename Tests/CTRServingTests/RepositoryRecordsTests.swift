import Testing
@testable import CTRServing

@Suite("RepositoryRecords as a plain value")
struct RepositoryRecordsTests {
    @Test("versions are listed in numeric order; new ones start as not served by the policy; a set keeps the stamp")
    func records() {
        func version(_ name: String, _ stamp: String = "s") -> ModelRepository.Source.Version {
            ModelRepository.Source.Version(version: name, directory: "/r/m/\(name)", stamp: stamp)
        }
        var records = RepositoryRecords()
        records.discovered(ModelRepository.Source(name: "m", versions: [version("2"), version("9"), version("10", "x")]))
        records.set("m", version("10", "x"), .unavailable, reason: "failed to load: bad", failed: true)
        records.discovered(ModelRepository.Source(name: "m", versions: [version("2"), version("9"), version("10", "y")]))
        #expect(records.entries.map { "\($0.version):\($0.record.state.rawValue)" } == ["2:UNAVAILABLE", "9:UNAVAILABLE", "10:UNAVAILABLE"])
        #expect(records.record("m", "2")?.reason == RepositoryRecords.notServedByPolicy)
        // Discovery never overwrites what a load found out: the failure and its stamp stay until the next try.
        #expect(records.record("m", "10") == RepositoryRecords.Record(state: .unavailable, reason: "failed to load: bad", stamp: "x", failed: true))
        records.set("m", "9", .ready)
        #expect(records.record("m", "9") == RepositoryRecords.Record(state: .ready, reason: "", stamp: "s", failed: false))
    }
}
