import Synchronization

/// The process-wide ONNX Runtime environment (`OrtEnv`), created once with its final settings.
///
/// ONNX Runtime keeps a single env per process: a second `CreateEnv` silently returns the first one, and
/// global thread pools asked for later are silently ignored. So `make` returns the existing environment when
/// the settings match and throws when they do not. Owns the `OrtEnv*` and a CPU `OrtMemoryInfo*`, released
/// in `deinit` after every session (which keeps its environment alive) is gone. Thread-safe: immutable after init.
public final class ORTEnvironment: @unchecked Sendable {
    /// Threading for pools shared by every session that opts into them.
    public struct GlobalThreadPools: Sendable, Equatable {
        public var intraOpThreads: Int
        public var interOpThreads: Int
        public var allowSpinning: Bool
        /// Creates pool settings; 0 threads lets ONNX Runtime choose.
        public init(intraOpThreads: Int, interOpThreads: Int = 1, allowSpinning: Bool = false) {
            self.intraOpThreads = intraOpThreads
            self.interOpThreads = interOpThreads
            self.allowSpinning = allowSpinning
        }
    }

    /// ONNX Runtime's logging severity.
    public enum LogLevel: Int32, Sendable { case verbose = 0, info, warning, error, fatal }

    /// Settings fixed at creation.
    public struct Settings: Sendable, Equatable {
        public var logLevel: LogLevel
        public var logID: String
        public var globalThreadPools: GlobalThreadPools?
        /// Creates settings; the defaults log warnings and use per-session thread pools.
        public init(logLevel: LogLevel = .warning, logID: String = "clickwise", globalThreadPools: GlobalThreadPools? = nil) {
            self.logLevel = logLevel
            self.logID = logID
            self.globalThreadPools = globalThreadPools
        }
    }

    public let runtime: ORTRuntime
    public let settings: Settings
    let handle: ORTHandle
    let cpuMemoryInfo: ORTHandle
    let defaultAllocator: ORTHandle

    private let sharedAllocatorRegistered = Mutex(false)

    private static let current = Mutex<Weak?>(nil)
    private struct Weak { weak var environment: ORTEnvironment? }

    /// Returns the process's environment, creating it with `settings` if none exists.
    public static func make(runtime: ORTRuntime, settings: Settings = Settings()) throws(ORTError) -> ORTEnvironment {
        try current.withLock { (slot: inout Weak?) throws(ORTError) -> ORTEnvironment in
            if let existing = slot?.environment {
                guard existing.settings == settings else {
                    throw ORTError(.environmentConflict,
                                   "the ONNX Runtime environment already exists with settings \(existing.settings); it cannot be recreated with \(settings) while it is alive")
                }
                return existing
            }
            let environment = try ORTEnvironment(runtime: runtime, settings: settings)
            slot = Weak(environment: environment)
            return environment
        }
    }

    private init(runtime: ORTRuntime, settings: Settings) throws(ORTError) {
        let api = runtime.api
        var env: ORTHandle?
        if let pools = settings.globalThreadPools {
            var options: ORTHandle?
            try api.check(api(.createThreadingOptions, FnCreateOut.self)(&options), "CreateThreadingOptions")
            defer { api.release(.releaseThreadingOptions, options) }
            try api.check(api(.setGlobalIntraOpNumThreads, FnSetInt.self)(options!, Int32(pools.intraOpThreads)), "SetGlobalIntraOpNumThreads")
            try api.check(api(.setGlobalInterOpNumThreads, FnSetInt.self)(options!, Int32(pools.interOpThreads)), "SetGlobalInterOpNumThreads")
            try api.check(api(.setGlobalSpinControl, FnSetInt.self)(options!, pools.allowSpinning ? 1 : 0), "SetGlobalSpinControl")
            try api.check(api(.createEnvWithGlobalThreadPools, FnCreateEnvWithGlobalThreadPools.self)(
                settings.logLevel.rawValue, settings.logID, options!, &env), "CreateEnvWithGlobalThreadPools")
        } else {
            try api.check(api(.createEnv, FnCreateEnv.self)(settings.logLevel.rawValue, settings.logID, &env), "CreateEnv")
        }
        var memoryInfo: ORTHandle?
        // OrtArenaAllocator (1), OrtMemTypeDefault (0): plain CPU memory for tensors wrapping our buffers.
        if let status = api(.createCpuMemoryInfo, FnCreateCpuMemoryInfo.self)(1, 0, &memoryInfo) {
            api.release(.releaseEnv, env)
            throw api.consume(status, "CreateCpuMemoryInfo")
        }
        var allocator: ORTHandle?
        if let status = api(.getAllocatorWithDefaultOptions, FnCreateOut.self)(&allocator) {
            api.release(.releaseMemoryInfo, memoryInfo)
            api.release(.releaseEnv, env)
            throw api.consume(status, "GetAllocatorWithDefaultOptions")
        }
        self.runtime = runtime
        self.settings = settings
        self.handle = env!
        self.cpuMemoryInfo = memoryInfo!
        self.defaultAllocator = allocator!  // owned by ORT: never released
        ORTLiveObjects.created()
    }

    deinit {
        runtime.api.release(.releaseMemoryInfo, cpuMemoryInfo)
        runtime.api.release(.releaseEnv, handle)
        ORTLiveObjects.released()
    }

    /// Registers one CPU arena allocator on the environment for sessions that opt in with `session.use_env_allocators`.
    ///
    /// Idempotent: ONNX Runtime refuses a second registration for the same device, so later calls do nothing.
    public func registerSharedCPUAllocator() throws(ORTError) {
        try sharedAllocatorRegistered.withLock { (registered: inout Bool) throws(ORTError) in
            guard !registered else { return }
            // A nil arena config asks for ONNX Runtime's default arena settings.
            try runtime.api.check(runtime.api(.createAndRegisterAllocator, FnCreateAndRegisterAllocator.self)(handle, cpuMemoryInfo, nil),
                                  "CreateAndRegisterAllocator")
            registered = true
        }
    }

    /// Copies and frees a string that ONNX Runtime allocated with the default allocator.
    func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let value = String(cString: pointer)
        _ = runtime.api(.allocatorFree, FnAllocatorFree.self)(defaultAllocator, pointer)
        return value
    }
}
