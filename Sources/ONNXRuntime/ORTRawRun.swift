#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bare C `Run` on values prepared ahead of time: the baseline the wrapper's overhead is measured against.
///
/// Holds its input/output `ORTValue`s (which own their handles); not for concurrent use.
@_spi(Benchmarks)
public final class ORTRawRun {
    private let session: ORTSession
    private let values: [ORTValue]
    private let handles: UnsafeMutableBufferPointer<ORTHandle?>
    private let names: UnsafeMutableBufferPointer<CString?>
    private let inputCount: Int

    /// Prepares a run of `session` on `inputs` (model order) writing into `outputs` (model order prefix).
    public init(session: ORTSession, inputs: [ORTValue], outputs: [ORTValue]) {
        self.session = session
        self.values = inputs + outputs
        self.inputCount = inputs.count
        handles = .allocate(capacity: values.count)
        for (index, value) in values.enumerated() { handles[index] = value.handle }
        names = .allocate(capacity: session.inputs.count + session.outputs.count)
        names.initialize(repeating: nil)
        for (index, name) in (session.inputs.map(\.name) + session.outputs.map(\.name)).enumerated() { names[index] = UnsafePointer(strdup(name)) }
    }

    deinit {
        for name in names { free(UnsafeMutableRawPointer(mutating: name)) }
        names.deallocate()
        handles.deallocate()
    }

    /// One C `Run` call, nothing else.
    public func run() throws(ORTError) {
        let api = session.environment.runtime.api
        let base = handles.baseAddress!
        let status = api.run(session.handle, nil, UnsafePointer(names.baseAddress!), base, inputCount,
                             UnsafePointer(names.baseAddress! + session.inputs.count), values.count - inputCount, base + inputCount)
        try api.check(status, "Run")
    }
}
