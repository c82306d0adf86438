#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded model ready to run (`OrtSession`).
///
/// Owns its `OrtSession*` and the C copies of its input/output names, released in `deinit`; keeps its environment
/// (and prepacked-weights container and shared initializers, if any) alive. Thread-safe: `run` may be called from many threads at once
/// (ONNX Runtime's `Run` is stateless per call); each call creates its own input and output values.
public final class ORTSession: @unchecked Sendable {
    public let environment: ORTEnvironment
    public let inputs: [ORTTensorInfo]
    public let outputs: [ORTTensorInfo]
    public let metadata: ORTModelMetadata
    let handle: ORTHandle
    private let prepackedWeights: ORTPrepackedWeights?
    /// The weights ONNX Runtime reads from memory we own instead of its own copy: they must outlive the session.
    private let sharedInitializers: [ORTSharedInitializers]
    private let inputNames: UnsafeMutableBufferPointer<CString?>
    private let outputNames: UnsafeMutableBufferPointer<CString?>

    /// Loads a model file.
    public convenience init(path: String, options: ORTSessionOptions, environment: ORTEnvironment,
                            prepackedWeights: ORTPrepackedWeights? = nil) throws(ORTError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ORTError(.modelFileNotFound, "model file \(path) does not exist")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ORTError(.modelFileNotFound, "model path \(path) is not a regular file")
        }
        let api = environment.runtime.api
        var session: ORTHandle?
        let status: ORTStatusPointer
        if let prepackedWeights {
            status = api(.createSessionWithPrepackedWeightsContainer, FnCreateSessionPrepacked.self)(
                environment.handle, path, options.handle, prepackedWeights.handle, &session)
        } else {
            status = api(.createSession, FnCreateSession.self)(environment.handle, path, options.handle, &session)
        }
        try api.check(status, "cannot load model \(path)")
        try self.init(adopting: session!, environment: environment, prepackedWeights: prepackedWeights,
                      sharedInitializers: options.sharedInitializers)
    }

    /// Loads a model from serialized ONNX bytes.
    public convenience init(bytes: UnsafeRawBufferPointer, options: ORTSessionOptions, environment: ORTEnvironment,
                            prepackedWeights: ORTPrepackedWeights? = nil) throws(ORTError) {
        let api = environment.runtime.api
        var session: ORTHandle?
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let status: ORTStatusPointer
        if let prepackedWeights {
            status = api(.createSessionFromArrayWithPrepackedWeightsContainer, FnCreateSessionFromArrayPrepacked.self)(
                environment.handle, base, bytes.count, options.handle, prepackedWeights.handle, &session)
        } else {
            status = api(.createSessionFromArray, FnCreateSessionFromArray.self)(environment.handle, base, bytes.count, options.handle, &session)
        }
        try api.check(status, "cannot load model from \(bytes.count) bytes")
        try self.init(adopting: session!, environment: environment, prepackedWeights: prepackedWeights,
                      sharedInitializers: options.sharedInitializers)
    }

    private init(adopting session: ORTHandle, environment: ORTEnvironment, prepackedWeights: ORTPrepackedWeights?,
                 sharedInitializers: [ORTSharedInitializers]) throws(ORTError) {
        let api = environment.runtime.api
        do throws(ORTError) {
            inputs = try Self.describe(session, environment, count: .sessionGetInputCount, name: .sessionGetInputName,
                                       typeInfo: .sessionGetInputTypeInfo)
            outputs = try Self.describe(session, environment, count: .sessionGetOutputCount, name: .sessionGetOutputName,
                                        typeInfo: .sessionGetOutputTypeInfo)
            metadata = try Self.readMetadata(session, environment)
        } catch {
            api.release(.releaseSession, session)
            throw error
        }
        self.environment = environment
        self.handle = session
        self.prepackedWeights = prepackedWeights
        self.sharedInitializers = sharedInitializers
        inputNames = Self.cStrings(inputs.map(\.name))
        outputNames = Self.cStrings(outputs.map(\.name))
        ORTLiveObjects.created()
    }

    deinit {
        environment.runtime.api.release(.releaseSession, handle)
        for name in inputNames { free(UnsafeMutableRawPointer(mutating: name)) }
        for name in outputNames { free(UnsafeMutableRawPointer(mutating: name)) }
        inputNames.deallocate()
        outputNames.deallocate()
        ORTLiveObjects.released()
    }

    // MARK: Running

    /// Runs the model on named inputs and returns every output (or the named ones) by name.
    public func run(_ namedInputs: [String: ORTValue], outputNames requested: [String]? = nil) throws(ORTError) -> [String: ORTValue] {
        for name in namedInputs.keys where !inputs.contains(where: { $0.name == name }) {
            throw ORTError(.inputName, "unknown input \"\(name)\"; the model's inputs are \(inputs.map(\.name))")
        }
        var ordered: [ORTValue] = []
        for info in inputs {
            guard let value = namedInputs[info.name] else {
                throw ORTError(.inputName, "missing input \"\(info.name)\" (\(info))")
            }
            ordered.append(value)
        }
        var outputIndices = Array(outputs.indices)
        if let requested {
            outputIndices = try requested.map { (name) throws(ORTError) -> Int in
                guard let index = outputs.firstIndex(where: { $0.name == name }) else {
                    throw ORTError(.inputName, "unknown output \"\(name)\"; the model's outputs are \(outputs.map(\.name))")
                }
                return index
            }
        }
        let values = try run(ordered, outputIndices: outputIndices)
        var result: [String: ORTValue] = [:]
        for (index, value) in zip(outputIndices, values) { result[outputs[index].name] = value }
        return result
    }

    /// Runs the model on inputs given in the model's input order; returns the chosen outputs, ORT-allocated.
    public func run(_ values: [ORTValue], outputIndices: [Int]? = nil) throws(ORTError) -> [ORTValue] {
        guard values.count == inputs.count else {
            throw ORTError(.inputName, "the model takes \(inputs.count) inputs \(inputs.map(\.name)), got \(values.count)")
        }
        for (index, value) in values.enumerated() {
            try validate(elementType: value.elementType, shape: value.shape, byteCount: value.byteCount, input: index)
        }
        let chosen = outputIndices ?? Array(outputs.indices)
        let api = environment.runtime.api
        let handles: [ORTHandle?] = values.map { $0.handle }
        let names: [CString?] = chosen.map { outputNames[$0] }
        var results = [ORTHandle?](repeating: nil, count: chosen.count)
        let status = api.run(handle, nil, UnsafePointer(inputNames.baseAddress!), handles, handles.count, names, names.count, &results)
        withExtendedLifetime(values) {}
        if let status {
            for result in results { api.releaseValue(result) }
            throw api.consume(status, "Run")
        }
        return try adopt(results)
    }

    /// Runs the model on caller memory and writes into caller memory: the allocation-free path for serving.
    ///
    /// `inputs` are in the model's input order; `outputs` are in its output order (a prefix of them), each a
    /// buffer with exactly the shape the model produces. Both must stay valid for the call.
    public func run(inputs views: UnsafeBufferPointer<ORTTensorView>, outputs outputViews: UnsafeBufferPointer<ORTTensorView>) throws(ORTError) {
        guard outputViews.count <= outputs.count else {
            throw ORTError(.inputName, "the model has \(outputs.count) outputs, got \(outputViews.count) output buffers")
        }
        try validate(views)
        let api = environment.runtime.api
        let memoryInfo = environment.cpuMemoryInfo
        let total = views.count + outputViews.count
        try withUnsafeTemporaryAllocation(of: ORTHandle?.self, capacity: total) { (values) throws(ORTError) in
            values.initialize(repeating: nil)
            defer { for value in values { api.releaseValue(value) } }
            try createInputs(views, into: values)
            for (index, view) in outputViews.enumerated() {
                let status = view.shape.withUnsafePointer {
                    api.createTensorWithData(memoryInfo, view.data, view.byteCount, $0, view.shape.count, view.elementType.rawValue,
                                             &values[views.count + index])
                }
                try api.check(status, "output \(outputs[index].name)")
            }
            let base = values.baseAddress!
            let status = api.run(handle, nil, UnsafePointer(inputNames.baseAddress!), base, views.count,
                                 UnsafePointer(outputNames.baseAddress!), outputViews.count, base + views.count)
            try api.check(status, "Run")
        }
    }

    /// Runs the model on caller memory and returns every output, allocated by ONNX Runtime: for models whose
    /// output shapes only the run knows. `inputs` are in the model's input order and stay valid for the call.
    public func run(inputs views: UnsafeBufferPointer<ORTTensorView>) throws(ORTError) -> [ORTValue] {
        try validate(views)
        let api = environment.runtime.api
        var results = [ORTHandle?](repeating: nil, count: outputs.count)
        try withUnsafeTemporaryAllocation(of: ORTHandle?.self, capacity: max(1, views.count)) { (values) throws(ORTError) in
            values.initialize(repeating: nil)
            defer { for value in values { api.releaseValue(value) } }
            try createInputs(views, into: values)
            let status = api.run(handle, nil, UnsafePointer(inputNames.baseAddress!), values.baseAddress!, views.count,
                                 UnsafePointer(outputNames.baseAddress!), outputs.count, &results)
            if let status {
                for result in results { api.releaseValue(result) }
                throw api.consume(status, "Run")
            }
        }
        return try adopt(results)
    }

    /// Checks caller-memory inputs (model order) against the model, naming the first that does not fit.
    private func validate(_ views: UnsafeBufferPointer<ORTTensorView>) throws(ORTError) {
        guard views.count == inputs.count else {
            throw ORTError(.inputName, "the model takes \(inputs.count) inputs \(inputs.map(\.name)), got \(views.count)")
        }
        for index in 0..<views.count {
            let view = views[index]
            try validate(elementType: view.elementType, shape: view.shape, byteCount: view.byteCount, input: index)
        }
    }

    /// Wraps caller-memory inputs in OrtValues at the front of `values` (the caller releases them).
    private func createInputs(_ views: UnsafeBufferPointer<ORTTensorView>, into values: UnsafeMutableBufferPointer<ORTHandle?>) throws(ORTError) {
        let api = environment.runtime.api
        let memoryInfo = environment.cpuMemoryInfo
        for (index, view) in views.enumerated() {
            let status = view.shape.withUnsafePointer {
                api.createTensorWithData(memoryInfo, view.data, view.byteCount, $0, view.shape.count, view.elementType.rawValue, &values[index])
            }
            try api.check(status, "input \(inputs[index].name)")
        }
    }

    /// Wraps `Run`'s output handles; on a failure the rest are released.
    private func adopt(_ results: [ORTHandle?]) throws(ORTError) -> [ORTValue] {
        var adopted: [ORTValue] = []
        adopted.reserveCapacity(results.count)
        for (position, result) in results.enumerated() {
            do throws(ORTError) {
                adopted.append(try ORTValue(adopting: result!, environment: environment))
            } catch {
                for remaining in results[(position + 1)...] { environment.runtime.api.releaseValue(remaining) }
                throw error
            }
        }
        return adopted
    }

    /// Runs on caller memory: array-literal convenience over the buffer-pointer form.
    public func run(inputs views: [ORTTensorView], outputs outputViews: [ORTTensorView]) throws(ORTError) {
        try views.withUnsafeBufferPointer { (inputBuffer) throws(ORTError) in
            try outputViews.withUnsafeBufferPointer { (outputBuffer) throws(ORTError) in
                try run(inputs: inputBuffer, outputs: outputBuffer)
            }
        }
    }

    /// Checks a tensor against the model's input `index` so a mistake is reported by name before ORT sees it.
    private func validate(elementType: ORTElementType, shape: ORTShape, byteCount: Int, input index: Int) throws(ORTError) {
        let info = inputs[index]
        guard elementType == info.elementType else {
            throw ORTError(.elementType, "input \"\(info.name)\" must be \(info.elementType), got \(elementType)")
        }
        guard shape.count == info.shape.count else {
            throw ORTError(.rank, "input \"\(info.name)\" must have rank \(info.shape.count) (\(info)), got shape \(shape)")
        }
        for (axis, expected) in info.shape.enumerated() where expected >= 0 && shape[axis] != expected {
            throw ORTError(.shape, "input \"\(info.name)\" dimension \(axis) must be \(expected) (\(info)), got shape \(shape)")
        }
        guard let count = shape.elementCount, count * (elementType.byteSize ?? 0) == byteCount else {
            throw ORTError(.bufferSize, "input \"\(info.name)\" of shape \(shape) needs \(shape.elementCount ?? -1) elements, buffer holds \(byteCount) bytes")
        }
    }

    // MARK: Introspection

    private static func describe(_ session: ORTHandle, _ environment: ORTEnvironment, count countSlot: ORTSlot, name nameSlot: ORTSlot,
                                 typeInfo typeSlot: ORTSlot) throws(ORTError) -> [ORTTensorInfo] {
        let api = environment.runtime.api
        var count = 0
        try api.check(api(countSlot, FnSessionGetCount.self)(session, &count), "tensor count")
        var result: [ORTTensorInfo] = []
        for index in 0..<count {
            var rawName: UnsafeMutablePointer<CChar>?
            try api.check(api(nameSlot, FnSessionGetName.self)(session, index, environment.defaultAllocator, &rawName), "tensor name")
            let name = environment.takeString(rawName) ?? ""
            var typeInfo: ORTHandle?
            try api.check(api(typeSlot, FnSessionGetTypeInfo.self)(session, index, &typeInfo), "type info of \(name)")
            defer { api.release(.releaseTypeInfo, typeInfo) }
            var tensorInfo: ORTHandle?
            try api.check(api(.castTypeInfoToTensorInfo, FnCastTypeInfoToTensorInfo.self)(typeInfo!, &tensorInfo), "tensor info of \(name)")
            guard let tensorInfo else {
                result.append(ORTTensorInfo(name: name, elementType: .undefined, shape: [], symbolicShape: []))
                continue
            }
            var type: Int32 = 0
            try api.check(api(.getTensorElementType, FnGetInt32Out.self)(tensorInfo, &type), "element type of \(name)")
            var rank = 0
            try api.check(api(.getDimensionsCount, FnGetSizeOut.self)(tensorInfo, &rank), "rank of \(name)")
            var dims = [Int64](repeating: 0, count: rank)
            try api.check(api(.getDimensions, FnGetDimensions.self)(tensorInfo, &dims, rank), "dimensions of \(name)")
            var symbols = [CString?](repeating: nil, count: rank)
            try api.check(api(.getSymbolicDimensions, FnGetSymbolicDimensions.self)(tensorInfo, &symbols, rank), "symbolic dimensions of \(name)")
            result.append(ORTTensorInfo(name: name, elementType: ORTElementType(rawValue: type) ?? .undefined, shape: dims,
                                        symbolicShape: symbols.map { $0.map { String(cString: $0) } ?? "" }))
        }
        return result
    }

    private static func readMetadata(_ session: ORTHandle, _ environment: ORTEnvironment) throws(ORTError) -> ORTModelMetadata {
        let api = environment.runtime.api
        var metadata: ORTHandle?
        try api.check(api(.sessionGetModelMetadata, FnCreateSessionMetadata.self)(session, &metadata), "SessionGetModelMetadata")
        defer { api.release(.releaseModelMetadata, metadata) }
        func string(_ slot: ORTSlot) throws(ORTError) -> String {
            var value: UnsafeMutablePointer<CChar>?
            try api.check(api(slot, FnMetadataGetString.self)(metadata!, environment.defaultAllocator, &value), "model metadata")
            return environment.takeString(value) ?? ""
        }
        var version: Int64 = 0
        try api.check(api(.modelMetadataGetVersion, FnMetadataGetVersion.self)(metadata!, &version), "model version")
        var keys: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var keyCount: Int64 = 0
        try api.check(api(.modelMetadataGetCustomMetadataMapKeys, FnMetadataGetKeys.self)(metadata!, environment.defaultAllocator, &keys, &keyCount),
                      "custom metadata keys")
        var custom: [String: String] = [:]
        let free = api(.allocatorFree, FnAllocatorFree.self)
        for index in 0..<Int(keyCount) {
            guard let key = environment.takeString(keys?[index]) else { continue }
            var value: UnsafeMutablePointer<CChar>?
            if let status = api(.modelMetadataLookupCustomMetadataMap, FnMetadataLookup.self)(metadata!, environment.defaultAllocator, key, &value) {
                api.releaseStatus(status)
                continue
            }
            custom[key] = environment.takeString(value)
        }
        if let keys { _ = free(environment.defaultAllocator, keys) }
        return ORTModelMetadata(producerName: try string(.modelMetadataGetProducerName), graphName: try string(.modelMetadataGetGraphName),
                                domain: try string(.modelMetadataGetDomain), description: try string(.modelMetadataGetDescription),
                                version: version, custom: custom)
    }

    private static func cStrings(_ strings: [String]) -> UnsafeMutableBufferPointer<CString?> {
        let buffer = UnsafeMutableBufferPointer<CString?>.allocate(capacity: max(1, strings.count))
        buffer.initialize(repeating: nil)
        for (index, string) in strings.enumerated() { buffer[index] = UnsafePointer(strdup(string)) }
        return buffer
    }
}

typealias FnCreateSessionMetadata = @convention(c) (ORTHandle, UnsafeMutablePointer<ORTHandle?>) -> ORTStatusPointer
