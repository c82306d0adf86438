import Foundation

/// Finds the bundle to serve from `--model`: a bundle directory, or a repository of `<model>/<version>/` bundles.
public enum ModelRepository {
    /// The newest version of every model under `path`.
    ///
    /// `path` may be a bundle (one model named after its directory, version "1"; a bundle directory named by a
    /// number is that version of the model named by its parent, `models/autoint/1`), a model directory of
    /// `<version>/` bundles (named after the directory), or a repository of `<model>/<version>/` bundles.
    public static func discover(_ path: String) throws(ServingError) -> [ModelBundle] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ServingError(.modelLoad, "model path \(path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw ServingError(.modelLoad, "model path \(path) is a file; pass a bundle directory (model.onnx + features.json) or a repository of <model>/<version>/ bundles")
        }
        let standardized = (path as NSString).standardizingPath
        if FileManager.default.fileExists(atPath: (standardized as NSString).appendingPathComponent("model.onnx")) {
            let name = (standardized as NSString).lastPathComponent
            // `models/autoint/1` is version 1 of `autoint`, as in a repository, not a model named "1".
            let parent = ((standardized as NSString).deletingLastPathComponent as NSString).lastPathComponent
            if let number = Int(name), number >= 0, !parent.isEmpty, parent != "/" {
                return [try ModelBundle(directory: standardized, name: parent, version: name)]
            }
            return [try ModelBundle(directory: standardized, name: name.isEmpty ? "model" : name, version: "1")]
        }
        if let version = newestVersion(in: standardized) {
            let name = (standardized as NSString).lastPathComponent
            return [try ModelBundle(directory: (standardized as NSString).appendingPathComponent(version), name: name, version: version)]
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: standardized)) ?? []
        var bundles: [ModelBundle] = []
        for model in entries.sorted() where !model.hasPrefix(".") {
            let modelDirectory = (standardized as NSString).appendingPathComponent(model)
            guard let version = newestVersion(in: modelDirectory) else { continue }
            bundles.append(try ModelBundle(directory: (modelDirectory as NSString).appendingPathComponent(version), name: model, version: version))
        }
        guard !bundles.isEmpty else {
            throw ServingError(.modelLoad, "\(path) holds no model bundle: expected model.onnx there, <version>/model.onnx, or <model>/<version>/model.onnx below it")
        }
        return bundles
    }

    /// The highest numeric version directory that holds a model.onnx.
    static func newestVersion(in directory: String) -> String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return versions
            .compactMap { name -> (Int, String)? in
                guard let number = Int(name), number >= 0 else { return nil }
                let model = ((directory as NSString).appendingPathComponent(name) as NSString).appendingPathComponent("model.onnx")
                return FileManager.default.fileExists(atPath: model) ? (number, name) : nil
            }
            .max { $0.0 < $1.0 }?.1
    }
}
