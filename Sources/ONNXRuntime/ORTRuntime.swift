#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A loaded ONNX Runtime shared library and its API table; loaded once per process and never unloaded.
public final class ORTRuntime: Sendable {
    /// The OrtApi version this binding is written against (ONNX Runtime 1.31).
    public static let apiVersion: UInt32 = 31
    /// The oldest runtime whose table has every slot we call.
    public static let minimumVersion = (major: 1, minor: 31)

    /// Where the library was loaded from.
    public let libraryPath: String
    /// The runtime's own version string, e.g. "1.31.1".
    public let version: String
    let api: ORTAPI

    private static let loaded = Mutex<ORTRuntime?>(nil)

    private init(libraryPath: String, version: String, api: ORTAPI) {
        self.libraryPath = libraryPath
        self.version = version
        self.api = api
    }

    /// Loads ONNX Runtime (once per process) from the first place that has it.
    ///
    /// Search order: `explicitPath` (`--ort-library`), `$ORT_DYLIB_PATH`, the project's `.venv`
    /// (next to the working directory or any parent of the executable), then the system's `libonnxruntime.so`.
    /// Later calls return the runtime already loaded.
    public static func load(explicitPath: String? = nil) throws(ORTError) -> ORTRuntime {
        try loaded.withLock { (slot: inout ORTRuntime?) throws(ORTError) -> ORTRuntime in
            if let runtime = slot {
                if let explicitPath, runtime.libraryPath != explicitPath {
                    throw ORTError(.libraryIncompatible,
                                   "ONNX Runtime is already loaded from \(runtime.libraryPath); cannot also load \(explicitPath)")
                }
                return runtime
            }
            let runtime = try open(candidates: searchCandidates(explicitPath: explicitPath))
            slot = runtime
            return runtime
        }
    }

    /// One place to look for the library, and why it is on the list.
    struct Candidate {
        let path: String
        let origin: String
        let required: Bool
    }

    static func searchCandidates(explicitPath: String?) -> [Candidate] {
        if let explicitPath {
            return [Candidate(path: explicitPath, origin: "--ort-library", required: true)]
        }
        if let env = getenv("ORT_DYLIB_PATH").map({ String(cString: $0) }), !env.isEmpty {
            return [Candidate(path: env, origin: "ORT_DYLIB_PATH", required: true)]
        }
        var result: [Candidate] = []
        var roots: [String] = []
        if let cwd = currentDirectory() { roots.append(contentsOf: ancestors(of: cwd)) }
        if let exe = executableDirectory() { roots.append(contentsOf: ancestors(of: exe)) }
        var seen = Set<String>()
        for root in roots where seen.insert(root).inserted {
            for lib in venvLibraries(in: root + "/.venv") {
                result.append(Candidate(path: lib, origin: "project virtualenv", required: false))
            }
        }
        for name in ["libonnxruntime.so.1", "libonnxruntime.so"] {
            result.append(Candidate(path: name, origin: "system library path", required: false))
        }
        return result
    }

    private static func open(candidates: [Candidate]) throws(ORTError) -> ORTRuntime {
        var looked: [String] = []
        for candidate in candidates {
            guard let handle = dlopen(candidate.path, RTLD_NOW | RTLD_LOCAL) else {
                let reason = dlerror().map { String(cString: $0) } ?? "not found"
                looked.append("\(candidate.path) (\(candidate.origin)): \(reason)")
                if candidate.required { break }
                continue
            }
            guard let symbol = dlsym(handle, "OrtGetApiBase") else {
                dlclose(handle)
                throw ORTError(.libraryIncompatible, "\(candidate.path) is not ONNX Runtime: it has no OrtGetApiBase symbol")
            }
            let getApiBase = unsafeBitCast(symbol, to: FnGetApiBase.self)
            guard let base = getApiBase() else {
                throw ORTError(.libraryIncompatible, "\(candidate.path): OrtGetApiBase returned NULL")
            }
            // struct OrtApiBase { GetApi; GetVersionString; }
            let getApi = unsafeBitCast(base.load(fromByteOffset: 0, as: UnsafeRawPointer.self), to: FnGetApi.self)
            let getVersion = unsafeBitCast(base.load(fromByteOffset: MemoryLayout<UnsafeRawPointer>.stride, as: UnsafeRawPointer.self),
                                           to: FnGetVersionString.self)
            let version = getVersion().map { String(cString: $0) } ?? "unknown"
            guard isSupported(version: version) else {
                throw ORTError(.libraryIncompatible,
                               "\(candidate.path) is ONNX Runtime \(version); Clickwise needs \(minimumVersion.major).\(minimumVersion.minor) or newer (run `make setup`, or pass --ort-library)")
            }
            guard let table = getApi(apiVersion) else {
                throw ORTError(.libraryIncompatible, "\(candidate.path) (ONNX Runtime \(version)) does not offer OrtApi version \(apiVersion)")
            }
            return ORTRuntime(libraryPath: candidate.path, version: version,
                              api: ORTAPI(table: table))
        }
        throw ORTError(.libraryNotFound, """
            ONNX Runtime library not found. Looked in:
              \(looked.joined(separator: "\n  "))
            Install it with `make setup` (creates .venv with onnxruntime==1.31.1), or point --ort-library / ORT_DYLIB_PATH at libonnxruntime.so.
            """)
    }

    static func isSupported(version: String) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > minimumVersion.major || (parts[0] == minimumVersion.major && parts[1] >= minimumVersion.minor)
    }

    /// ONNX Runtime's build description ("ORT Build Info: ...").
    public var buildInfo: String {
        api(.getBuildInfoString, FnGetBuildInfoString.self)().map { String(cString: $0) } ?? ""
    }

    /// Execution providers compiled into this library, e.g. `["AzureExecutionProvider", "CPUExecutionProvider"]`.
    public func availableProviders() throws(ORTError) -> [String] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        var count: Int32 = 0
        try api.check(api(.getAvailableProviders, FnGetAvailableProviders.self)(&list, &count), "GetAvailableProviders")
        let names = (0..<Int(count)).compactMap { list?[$0].map { String(cString: $0) } }
        try api.check(api(.releaseAvailableProviders, FnReleaseAvailableProviders.self)(list, count), "ReleaseAvailableProviders")
        return names
    }
}

// MARK: - Search helpers

private func currentDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return nil }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

private func executableDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    guard let slash = path.lastIndex(of: "/") else { return nil }
    return String(path[..<slash])
}

private func ancestors(of path: String) -> [String] {
    var result: [String] = []
    var current = path
    while !current.isEmpty {
        result.append(current)
        guard let slash = current.lastIndex(of: "/") else { break }
        current = String(current[..<slash])
    }
    return result
}

/// `libonnxruntime.so.*` files of an `onnxruntime` wheel installed in a virtualenv.
private func venvLibraries(in venv: String) -> [String] {
    var pattern = glob_t()
    defer { globfree(&pattern) }
    let query = venv + "/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*"
    guard glob(query, 0, nil, &pattern) == 0 else { return [] }
    return (0..<Int(pattern.gl_pathc)).compactMap { pattern.gl_pathv[$0].map { String(cString: $0) } }.sorted()
}
