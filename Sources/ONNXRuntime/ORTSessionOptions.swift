#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings for creating sessions (`OrtSessionOptions`).
///
/// Owns its `OrtSessionOptions*` and releases it in `deinit`. Not thread-safe: configure it on one thread,
/// then use it for any number of session creations (ONNX Runtime only reads it there).
public final class ORTSessionOptions {
    /// How ONNX Runtime schedules independent nodes.
    public enum ExecutionMode: Int32, Sendable { case sequential = 0, parallel = 1 }

    /// How much graph rewriting ONNX Runtime does when it loads a model.
    public enum GraphOptimizationLevel: Int32, Sendable, CaseIterable {
        case disabled = 0, basic = 1, extended = 2, layout = 3, all = 99

        /// Parses the CLI spelling ("disabled", "basic", "extended", "layout", "all").
        public init?(name: String) {
            switch name.lowercased() {
            case "disabled", "disable", "none": self = .disabled
            case "basic": self = .basic
            case "extended": self = .extended
            case "layout": self = .layout
            case "all": self = .all
            default: return nil
            }
        }
    }

    let runtime: ORTRuntime
    let handle: ORTHandle
    /// Shared weights given to ONNX Runtime; every session created from these options keeps them alive.
    private(set) var sharedInitializers: [ORTSharedInitializers] = []

    /// Creates default options.
    public init(runtime: ORTRuntime) throws(ORTError) {
        var options: ORTHandle?
        try runtime.api.check(runtime.api(.createSessionOptions, FnCreateOut.self)(&options), "CreateSessionOptions")
        self.runtime = runtime
        self.handle = options!
        ORTLiveObjects.created()
    }

    deinit {
        runtime.api.release(.releaseSessionOptions, handle)
        ORTLiveObjects.released()
    }

    /// Threads one `Run` may use for a single operator (the caller's thread counts as one).
    public func setIntraOpThreads(_ count: Int) throws(ORTError) {
        try runtime.api.check(runtime.api(.setIntraOpNumThreads, FnSetInt.self)(handle, Int32(count)), "SetIntraOpNumThreads(\(count))")
    }

    /// Threads for running independent nodes at once (only used in `.parallel` mode).
    public func setInterOpThreads(_ count: Int) throws(ORTError) {
        try runtime.api.check(runtime.api(.setInterOpNumThreads, FnSetInt.self)(handle, Int32(count)), "SetInterOpNumThreads(\(count))")
    }

    /// Sequential or parallel node execution.
    public func setExecutionMode(_ mode: ExecutionMode) throws(ORTError) {
        try runtime.api.check(runtime.api(.setSessionExecutionMode, FnSetInt.self)(handle, mode.rawValue), "SetSessionExecutionMode")
    }

    /// Graph optimizations applied at load.
    public func setGraphOptimizationLevel(_ level: GraphOptimizationLevel) throws(ORTError) {
        try runtime.api.check(runtime.api(.setSessionGraphOptimizationLevel, FnSetInt.self)(handle, level.rawValue),
                              "SetSessionGraphOptimizationLevel")
    }

    /// Adds a session config entry such as `session.intra_op.allow_spinning`; ORT does not validate keys.
    public func addConfigEntry(_ key: String, _ value: String) throws(ORTError) {
        try runtime.api.check(runtime.api(.addSessionConfigEntry, FnAddConfigEntry.self)(handle, key, value),
                              "AddSessionConfigEntry(\(key)=\(value))")
    }

    /// The stored value of a config entry, or nil when it was never set.
    public func configEntry(_ key: String) -> String? {
        let get = runtime.api(.getSessionConfigEntry, FnGetSessionConfigEntry.self)
        var size = 0
        // The first call reports the size needed (and fails when the key is absent).
        if let status = get(handle, key, nil, &size) {
            runtime.api.releaseStatus(status)
            if size == 0 { return nil }
        }
        guard size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        if let status = get(handle, key, &buffer, &size) {
            runtime.api.releaseStatus(status)
            return nil
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Whether intra-op workers busy-wait before sleeping (`session.intra_op.allow_spinning`).
    public func setAllowSpinning(_ allow: Bool) throws(ORTError) {
        try addConfigEntry("session.intra_op.allow_spinning", allow ? "1" : "0")
        try addConfigEntry("session.inter_op.allow_spinning", allow ? "1" : "0")
    }

    /// Makes sessions use the environment's global thread pools instead of their own.
    public func disablePerSessionThreads() throws(ORTError) {
        try runtime.api.check(runtime.api(.disablePerSessionThreads, FnOnHandle.self)(handle), "DisablePerSessionThreads")
    }

    /// Turns the CPU memory arena on or off.
    public func setCPUMemoryArena(_ enabled: Bool) throws(ORTError) {
        try runtime.api.check(runtime.api(enabled ? .enableCpuMemArena : .disableCpuMemArena, FnOnHandle.self)(handle),
                              "EnableCpuMemArena/DisableCpuMemArena")
    }

    /// Turns memory-pattern planning on or off.
    public func setMemoryPattern(_ enabled: Bool) throws(ORTError) {
        try runtime.api.check(runtime.api(enabled ? .enableMemPattern : .disableMemPattern, FnOnHandle.self)(handle),
                              "EnableMemPattern/DisableMemPattern")
    }

    /// Makes sessions created from these options use `shared`'s weights instead of loading their own copies.
    ///
    /// The values must come from the same model the sessions load: ONNX Runtime matches them to the graph's
    /// initializers by name and uses them in place of its own copies.
    public func addInitializers(_ shared: ORTSharedInitializers) throws(ORTError) {
        let add = runtime.api(.addInitializer, FnAddInitializer.self)
        for (entry, value) in zip(shared.entries, shared.values) {
            try runtime.api.check(add(handle, entry.name, value.handle), "AddInitializer(\(entry.name))")
        }
        sharedInitializers.append(shared)
    }

    /// Makes sessions allocate from the environment's shared CPU allocator (`session.use_env_allocators`).
    ///
    /// Registers the allocator on the environment first (once per environment), so sessions share one arena instead
    /// of growing one each.
    public func useEnvironmentAllocator(_ environment: ORTEnvironment) throws(ORTError) {
        try environment.registerSharedCPUAllocator()
        try addConfigEntry("session.use_env_allocators", "1")
    }

    /// Appends an execution provider by name ("XNNPACK", "CPU", ...); a provider not in this build is an error.
    public func appendExecutionProvider(_ name: String, options: [String: String] = [:]) throws(ORTError) {
        let keys = options.keys.sorted()
        let values = keys.map { options[$0]! }
        let status = withCStringArray(keys) { keyPointers in
            withCStringArray(values) { valuePointers in
                runtime.api(.sessionOptionsAppendExecutionProvider, FnAppendExecutionProvider.self)(
                    handle, name, keyPointers.baseAddress, valuePointers.baseAddress, keys.count)
            }
        }
        try runtime.api.check(status, "execution provider \(name)")
    }
}

/// Calls `body` with NUL-terminated copies of `strings` that live for the call.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafeBufferPointer<CString?>) throws -> R) rethrows -> R {
    let copies: [UnsafeMutablePointer<CChar>] = strings.map { strdup($0)! }
    defer { copies.forEach { free($0) } }
    let pointers: [CString?] = copies.map { UnsafePointer($0) }
    return try pointers.withUnsafeBufferPointer { try body($0) }
}
