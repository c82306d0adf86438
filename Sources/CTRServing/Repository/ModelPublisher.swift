import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Publishes a bundle as the next version of a model in a repository (`clickwise publish`), so that a server
/// polling the repository never sees half a version: the files are copied into a staging directory beside the
/// versions (its name is not a number, so no scan takes it for one), flushed to disk, and the directory is renamed
/// to the next version number in one step.
public enum ModelPublisher {
    /// What a publish did.
    public struct Outcome: Sendable, Equatable {
        /// The new version's number and directory.
        public let version: Int
        public let directory: String
        /// Versions removed by `keep`, oldest first.
        public let pruned: [Int]
    }

    /// Why a publish did not happen; the message names the path.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Copies the bundle in `bundle` to `repository/model/<next>/` atomically; then, with `keep`, removes all but
    /// the `keep` newest versions (at least 2, so the version a server was serving until it polls stays).
    public static func publish(bundle: String, repository: String, model: String, keep: Int? = nil) throws(Failure) -> Outcome {
        let files = FileManager.default
        guard !model.isEmpty, !model.contains("/"), !model.hasPrefix(".") else {
            throw Failure(message: "--model \"\(model)\" is not a model name (no slashes, not hidden)")
        }
        if let keep, keep < 2 {
            throw Failure(message: "--keep \(keep): keep at least 2 versions (the new one and the one servers serve until they poll)")
        }
        guard files.fileExists(atPath: (bundle as NSString).appendingPathComponent("model.onnx")) else {
            throw Failure(message: "\(bundle) is not a bundle: it has no model.onnx")
        }
        let names: [String]
        do {
            names = try files.contentsOfDirectory(atPath: bundle).filter { name in
                var isDirectory: ObjCBool = false
                return !name.hasPrefix(".") && files.fileExists(atPath: (bundle as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
                    && !isDirectory.boolValue
            }.sorted()
        } catch {
            throw Failure(message: "cannot read \(bundle): \(error.localizedDescription)")
        }
        let modelDirectory = (repository as NSString).appendingPathComponent(model)
        do {
            try files.createDirectory(atPath: modelDirectory, withIntermediateDirectories: true)
        } catch {
            throw Failure(message: "cannot create \(modelDirectory): \(error.localizedDescription)")
        }
        let staging = (modelDirectory as NSString).appendingPathComponent(".publishing-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try files.createDirectory(atPath: staging, withIntermediateDirectories: false)
            for name in names {
                let target = (staging as NSString).appendingPathComponent(name)
                try files.copyItem(atPath: (bundle as NSString).appendingPathComponent(name), toPath: target)
                try sync(target)
            }
            try sync(staging)
        } catch {
            try? files.removeItem(atPath: staging)
            throw Failure(message: "cannot stage \(bundle) in \(modelDirectory): \(error)")
        }
        // Another publisher may take a number between the scan and the rename: rename fails then, so try the next.
        var version = (versions(in: modelDirectory).last ?? 0) + 1
        var attempts = 0
        while rename(staging, (modelDirectory as NSString).appendingPathComponent(String(version))) != 0 {
            let code = errno
            attempts += 1
            guard (code == EEXIST || code == ENOTEMPTY), attempts < 100 else {
                try? files.removeItem(atPath: staging)
                throw Failure(message: "cannot rename \(staging) to version \(version): \(String(cString: strerror(code)))")
            }
            version = max(version + 1, (versions(in: modelDirectory).last ?? 0) + 1)
        }
        try? sync(modelDirectory)
        var pruned: [Int] = []
        if let keep {
            let all = versions(in: modelDirectory)
            for old in all.dropLast(keep) {
                do {
                    try files.removeItem(atPath: (modelDirectory as NSString).appendingPathComponent(String(old)))
                    pruned.append(old)
                } catch {
                    throw Failure(message: "published version \(version), but could not prune version \(old): \(error.localizedDescription)")
                }
            }
        }
        return Outcome(version: version, directory: (modelDirectory as NSString).appendingPathComponent(String(version)), pruned: pruned)
    }

    /// The numeric version directories of `modelDirectory`, ascending.
    static func versions(in modelDirectory: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: modelDirectory)) ?? []).compactMap { name in
            guard let number = Int(name), number >= 0, String(number) == name else { return nil }
            return number
        }.sorted()
    }

    /// Flushes a file's or directory's contents (and a directory's entries) to disk.
    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(message: "cannot flush \(path): \(String(cString: strerror(errno)))") }
    }
}
