/// One copy of a model's large weights that every session of the model uses instead of its own (`AddInitializer`).
///
/// ONNX Runtime gives each session a private copy of every initializer; a pool of 12 sessions of a model with a
/// 128 MB embedding table would hold 1.5 GB. Here each initializer of at least `minimumBytes` becomes one
/// user-owned `OrtValue` over memory this object owns: inline data (`raw_data`) is copied once into an aligned
/// buffer and the model file is unmapped again; external data is memory-mapped in place when its offset is aligned
/// for the element type (our exporter aligns to 4096), else copied. `ORTSessionOptions.addInitializers` hands the
/// values to sessions and makes every session created from those options keep this object alive, so the memory is
/// freed only after the last session is released. Immutable after init and thread-safe; ONNX Runtime only reads
/// the weights.
public final class ORTSharedInitializers: @unchecked Sendable {
    // @unchecked: the buffers and values are written once in init and only read (by ONNX Runtime) afterwards.

    /// One shared weight.
    public struct Entry: Sendable {
        public let name: String
        public let elementType: ORTElementType
        public let dimensions: [Int64]
        public let byteCount: Int
        /// Whether the bytes are mapped from an external data file rather than copied.
        public let mapped: Bool
    }

    public let environment: ORTEnvironment
    public let modelPath: String
    /// The shared weights, in file order.
    public let entries: [Entry]
    let values: [ORTValue]
    private let buffers: [UnsafeMutableRawPointer]
    private let mappings: [MappedFile]

    /// Bytes of all shared weights.
    public var byteCount: Int { entries.reduce(0) { $0 + $1.byteCount } }

    /// Reads `modelPath`'s initializers and makes values for those of at least `minimumBytes` (0 shares all).
    ///
    /// Initializers in layouts the reader does not decode are left to ONNX Runtime (each session loads its own).
    public init(modelPath: String, environment: ORTEnvironment, minimumBytes: Int) throws(ORTError) {
        let model = try ONNXModelFile(path: modelPath)
        var entries: [Entry] = []
        var values: [ORTValue] = []
        var buffers: [UnsafeMutableRawPointer] = []
        var mappings: [String: MappedFile] = [:]
        func release() {
            values.removeAll()
            for buffer in buffers { buffer.deallocate() }
        }
        do throws(ORTError) {
            for initializer in model.initializers {
                guard let size = initializer.byteCount, size >= max(1, minimumBytes) else { continue }
                let shape = ORTShape(initializer.dimensions)
                var pointer: UnsafeMutableRawPointer
                var mapped = false
                switch initializer.storage {
                case .unsupported:
                    continue
                case let .external(location, offset, length):
                    let path = model.externalPath(location)
                    let file: MappedFile
                    if let existing = mappings[path] {
                        file = existing
                    } else {
                        file = try MappedFile(path: path)
                        mappings[path] = file
                    }
                    try ONNXModelFile.checkExternal(initializer, location: location, offset: offset, length: length, fileSize: file.count)
                    let source = file.base! + offset
                    let alignment = max(initializer.elementType.byteSize ?? 1, 1)
                    if Int(bitPattern: source) % alignment == 0 {
                        pointer = source
                        mapped = true
                    } else {
                        pointer = Self.copy(UnsafeRawBufferPointer(start: source, count: length))
                        buffers.append(pointer)
                    }
                case let .inline(offset, length):
                    guard length == size else {
                        throw ORTError(.modelFormat, "\(modelPath): initializer \"\(initializer.name)\" \(initializer.elementType) \(initializer.dimensions) needs \(size) bytes, its data holds \(length)")
                    }
                    pointer = Self.copy(UnsafeRawBufferPointer(rebasing: model.file.bytes[offset..<(offset + length)]))
                    buffers.append(pointer)
                case let .int64Values(decoded):
                    pointer = decoded.withUnsafeBytes { Self.copy($0) }
                    buffers.append(pointer)
                case let .int32Values(decoded):
                    pointer = decoded.withUnsafeBytes { Self.copy($0) }
                    buffers.append(pointer)
                }
                values.append(try ORTValue(borrowing: pointer, byteCount: size, elementType: initializer.elementType,
                                           shape: shape, environment: environment))
                entries.append(Entry(name: initializer.name, elementType: initializer.elementType, dimensions: initializer.dimensions,
                                     byteCount: size, mapped: mapped))
            }
        } catch {
            release()
            throw error
        }
        self.environment = environment
        self.modelPath = modelPath
        self.entries = entries
        self.values = values
        self.buffers = buffers
        self.mappings = Array(mappings.values)
    }

    deinit {
        // Sessions keep this object alive, so no session can run on these buffers any more; releasing an OrtValue
        // that wraps borrowed memory never reads that memory, so the values may go after the buffers.
        for buffer in buffers { buffer.deallocate() }
    }

    private static func copy(_ source: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, source.count), alignment: 64)
        if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        return buffer
    }
}
