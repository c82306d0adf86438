import Foundation
import Testing
@testable import CTRServing

/// `TrafficPolicy` as a value (issue 25 item 5): flags and traffic.json parse or are refused by name; picks follow
/// the weights; the sticky key reads a field's value from raw bytes. Serving under a policy: CTRServerTests' TrafficSplitTests.
@Suite("Traffic policies")
struct TrafficPolicyTests {
    @Test("policies parse from flags and files; refusals name what is wrong; picks follow the weights; sticky keys read the field's value")
    func policyParsing() throws {
        let policies = try TrafficPolicy.fromArguments(traffic: ["a=1:90,2:10"], shadow: ["a=3", "b=2"])
        #expect(policies["a"]?.shares == [.init(version: "1", weight: 90), .init(version: "2", weight: 10)])
        #expect(policies["a"]?.shadow == "3" && policies["b"]?.shares.isEmpty == true && policies["b"]?.shadow == "2")
        #expect(policies["a"]?.loaded(newest: "5") == ["1", "2", "3"] && policies["b"]?.loaded(newest: "5") == ["5", "2"])
        for (traffic, shadow, message) in [(["a=1:x"], [String](), "VERSION:WEIGHT"), (["a"], [], "MODEL="), (["a=1:0,2:0"], [], "every weight is 0"),
                                           (["a=1:5,1:5"], [], "twice"), (["a=1:9223372036854775807,2:1"], [], "above"), ([], ["a=two"], "MODEL=VERSION"), (["a=1:1", "a=2:1"], [], "two --traffic")] {
            #expect { _ = try TrafficPolicy.fromArguments(traffic: traffic, shadow: shadow) } throws: { "\($0)".contains(message) }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clickwise-traffic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/traffic.json"
        for (json, message) in [(#"{"weights": {"1": 1}, "split": 1}"#, "unknown key \"split\""), (#"{"weights": [1]}"#, "must be an object"),
                                (#"{"weights": {"v1": 1}}"#, "not a version"), (#"{"weights": {"1": -1}}"#, "non-negative"), (#"{"weights": {"1": 9223372036854775807, "2": 9}}"#, "above"), ("{", "not a JSON object")] {
            try Data(json.utf8).write(to: URL(fileURLWithPath: file))
            #expect { _ = try TrafficPolicy(file: file) } throws: { "\($0)".contains(message) && "\($0)".contains(file) }
        }
        try Data(#"{"weights": {"1": 1, "2": 3}, "sticky_field": "user", "shadow": 3}"#.utf8).write(to: URL(fileURLWithPath: file))
        let policy = try TrafficPolicy(file: file)
        #expect(policy.shares.map(\.version) == ["1", "2"] && policy.stickyField == "user" && policy.shadow == "3")
        var counts: [String: Int] = [:]
        for key in 0..<4000 { counts[policy.pick(key: UInt64(key)) ?? "?", default: 0] += 1 }
        #expect(counts == ["1": 1000, "2": 3000])
        func key(_ body: String) -> UInt64? {
            Array(body.utf8).withUnsafeBytes { TrafficPolicy.stickyKey(in: $0, field: "user") }
        }
        #expect(key(#"{"context": {"user": "u1"}}"#) == key(#"{"instances": [{"a": 1, "user" :  "u1", "b": 2}]}"#))
        #expect(key(#"{"user": "u1"}"#) != key(#"{"user": "u2"}"#))
        #expect(key(#"{"user": 17}"#) != nil && key(#"{"user": 17}"#) == key(#"{"user":17}"#))
        #expect(key(#"{"user": null}"#) == nil && key(#"{"users": "u1"}"#) == nil && key(#"{"x": "user"}"#) == nil && key("") == nil)
    }
}
