import Foundation

/// Finds the bundles to serve from `--model`: a bundle directory, a model directory of `<version>/` bundles,
/// or a repository of `<model>/<version>/` bundles.
public enum ModelRepository {
    /// One model found under the served path: its name and the version directories that hold a model.onnx.
    public struct Source: Sendable, Equatable {
        /// The name clients use in URLs.
        public let name: String
        /// Version names (numeric directory names, or "1" for a bare bundle) with their directories, oldest first.
        public let versions: [Version]

        /// One version directory.
        public struct Version: Sendable, Equatable {
            public let version: String
            public let directory: String
            /// Sizes and modification times of the files a bundle is read from: a changed stamp means the
            /// directory changed since it was last tried (a broken version is retried only then).
            public let stamp: String

            /// A version directory as ``ModelRepository/scan(_:)`` finds it.
            public init(version: String, directory: String, stamp: String) {
                self.version = version
                self.directory = directory
                self.stamp = stamp
            }
        }

        /// The model's directory (which holds its versions and may hold a traffic.json); nil for a bare bundle.
        public let directory: String?

        /// A model with its versions, oldest first.
        public init(name: String, versions: [Version], directory: String? = nil) {
            self.name = name
            self.versions = versions
            self.directory = directory
        }

        /// The model's `traffic.json` when its directory has one.
        public var trafficFile: String? {
            guard let directory else { return nil }
            let path = (directory as NSString).appendingPathComponent(TrafficPolicy.fileName)
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }

        /// The version Triton's default policy ("latest 1") serves: the highest number.
        public var newest: Version? { versions.last }
    }

    /// The newest version of every model under `path`.
    ///
    /// `path` may be a bundle (one model named after its directory, version "1"; a bundle directory named by a
    /// number is that version of the model named by its parent, `models/autoint/1`), a model directory of
    /// `<version>/` bundles (named after the directory), or a repository of `<model>/<version>/` bundles.
    public static func discover(_ path: String, keepingVocabularyValues: Bool = false) throws(ServingError) -> [ModelBundle] {
        var bundles: [ModelBundle] = []
        for source in try scan(path) {
            guard let newest = source.newest else { continue }
            bundles.append(try ModelBundle(directory: newest.directory, name: source.name, version: newest.version,
                                         keepingVocabularyValues: keepingVocabularyValues))
        }
        return bundles
    }

    /// Every model under `path` with every version directory it holds (see ``discover(_:)`` for the layouts).
    ///
    /// A bundle path names exactly one version, so it never gains one; the other layouts are re-read by
    /// polling and by `load`, which is how a new version directory is found.
    public static func scan(_ path: String) throws(ServingError) -> [Source] {
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
                return [Source(name: parent, versions: [version(name, in: standardized)])]
            }
            return [Source(name: name.isEmpty ? "model" : name, versions: [version("1", in: standardized)])]
        }
        let versions = versions(in: standardized)
        if !versions.isEmpty {
            return [Source(name: (standardized as NSString).lastPathComponent, versions: versions, directory: standardized)]
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: standardized)) ?? []
        var sources: [Source] = []
        for model in entries.sorted() where !model.hasPrefix(".") {
            let directory = (standardized as NSString).appendingPathComponent(model)
            let found = Self.versions(in: directory)
            if !found.isEmpty { sources.append(Source(name: model, versions: found, directory: directory)) }
        }
        guard !sources.isEmpty else {
            throw ServingError(.modelLoad, "\(path) holds no model bundle: expected model.onnx there, <version>/model.onnx, or <model>/<version>/model.onnx below it")
        }
        return sources
    }

    /// The highest numeric version directory that holds a model.onnx.
    static func newestVersion(in directory: String) -> String? { versions(in: directory).last?.version }

    /// The numeric version directories under `directory` that hold a model.onnx, in numeric order.
    static func versions(in directory: String) -> [Source.Version] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names
            .compactMap { name -> (Int, String)? in
                guard let number = Int(name), number >= 0 else { return nil }
                let model = ((directory as NSString).appendingPathComponent(name) as NSString).appendingPathComponent("model.onnx")
                return FileManager.default.fileExists(atPath: model) ? (number, name) : nil
            }
            .sorted { $0.0 < $1.0 }
            .map { version($0.1, in: (directory as NSString).appendingPathComponent($0.1)) }
    }

    private static func version(_ version: String, in directory: String) -> Source.Version {
        let stamp = ["model.onnx", "features.json", "model.json"].map { file -> String in
            let attributes = try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(file))
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(size)@\(modified)"
        }.joined(separator: ",")
        return Source.Version(version: version, directory: directory, stamp: stamp)
    }
}
