import ClickwiseTestSupport
import Foundation
import Testing

/// The README's example request against the shipped bundles: the exact answer it shows.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the shipped DeepFM answers the README's curl example with the prediction the README prints")
    func readmePrediction() throws {
        let readme = try String(contentsOfFile: ServeProcess.packageRoot + "/README.md", encoding: .utf8)
        let lines = readme.split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("curl -s localhost:8000/v1/models/deepfm:predict -d '") })
        let request = lines[index]
        let start = try #require(request.range(of: "-d '")).upperBound
        let body = String(request[start...].dropLast())  // the closing quote
        let expected = lines[index + 1].replacingOccurrences(of: "# ", with: "")
        #expect(expected.hasPrefix("{\"predictions\":["))

        let (served, port) = try ServeProcessTests.serve(["--model", ServeProcess.packageRoot + "/models/deepfm"])
        defer { served.stop() }
        let response = try HTTPTestClient(port: port).send("POST", "/v1/models/deepfm:predict", body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(response.text == expected)
    }
}
