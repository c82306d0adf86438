import Foundation
import ONNXRuntime

/// Paths and expected values of the fixtures written by scripts/make_fixtures.py.
enum Fixtures {
    static let directory: String = {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    static func path(_ name: String) -> String { directory + "/" + name }

    struct Case {
        let ids: [Int64]
        let dense: [Float]
        let probability: [Float]
    }

    static let cases: [Int: Case] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: path("criteo_tiny_expected.json")))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let cases = root["cases"] as! [String: [String: [NSNumber]]]
        var result: [Int: Case] = [:]
        for (batch, values) in cases {
            result[Int(batch)!] = Case(ids: values["sparse_ids"]!.map { $0.int64Value },
                                       dense: values["dense"]!.map { $0.floatValue },
                                       probability: values["probability"]!.map { $0.floatValue })
        }
        return result
    }()

    /// The process's runtime and environment, shared by all tests (ORT allows one env per process).
    static let environment: ORTEnvironment = {
        let runtime = try! ORTRuntime.load()
        return try! ORTEnvironment.make(runtime: runtime)
    }()

    static func options(intra: Int = 1) throws -> ORTSessionOptions {
        let options = try ORTSessionOptions(runtime: environment.runtime)
        try options.setIntraOpThreads(intra)
        try options.setInterOpThreads(1)
        return options
    }

    static func session(_ name: String = "criteo_tiny.onnx") throws -> ORTSession {
        try ORTSession(path: path(name), options: options(), environment: environment)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Resident set size of this process in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}
