import CTRServing
import ClickwiseTestSupport
import Testing

@Suite("--model given a version directory")
struct VersionDirectoryTests {
    @Test("a version directory is that version of the model its parent names; a repository lists every model")
    func names() throws {
        let version = try ModelRepository.discover(ServeProcess.packageRoot + "/models/autoint/1")
        #expect(version.map(\.name) == ["autoint"] && version.map(\.version) == ["1"])
        let model = try ModelRepository.discover(ServeProcess.packageRoot + "/models/autoint")
        #expect(model.map(\.name) == ["autoint"] && model.map(\.version) == ["1"])
        let repository = try ModelRepository.discover(ServeProcess.packageRoot + "/models")
        #expect(repository.map(\.name) == ["autoint", "autoint-int8", "deepfm", "deepfm-int8"])
    }
}
