#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tensor owned by this binding (`OrtValue`): either a copy of caller data or an output of `Run`.
///
/// Owns its `OrtValue*` (and, for tensors built from Swift arrays, the buffer it wraps) and releases both in
/// `deinit`, buffer last, keeping the environment alive until then. Safe to hand between threads; reading it from
/// several threads at once is safe, writing through `withUnsafeMutableBufferPointer` needs a single owner.
public final class ORTValue: @unchecked Sendable {
    public let environment: ORTEnvironment
    public let elementType: ORTElementType
    public let shape: ORTShape
    let handle: ORTHandle
    private let ownedBuffer: UnsafeMutableRawPointer?
    /// Address and size of the tensor's data.
    let data: UnsafeMutableRawPointer
    let byteCount: Int

    /// Creates a tensor holding a copy of `elements` with the given shape.
    public convenience init<T: ORTScalar>(_ elements: [T], shape: ORTShape, environment: ORTEnvironment) throws(ORTError) {
        guard let count = shape.elementCount, count == elements.count else {
            throw ORTError(.bufferSize, "tensor of shape \(shape) needs \(shape.elementCount.map(String.init) ?? "a known number of") elements, got \(elements.count)")
        }
        let bytes = max(1, count * MemoryLayout<T>.stride)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        elements.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
        }
        do {
            try self.init(wrapping: buffer, byteCount: count * MemoryLayout<T>.stride, elementType: T.ortElementType,
                          shape: shape, environment: environment, owning: true)
        } catch {
            buffer.deallocate()
            throw error
        }
    }

    /// Creates a zero-filled tensor of `type` and `shape`.
    public convenience init(zeros type: ORTElementType, shape: ORTShape, environment: ORTEnvironment) throws(ORTError) {
        guard let size = type.byteSize else { throw ORTError(.elementType, "cannot allocate a \(type) tensor") }
        guard let count = shape.elementCount else { throw ORTError(.shape, "shape \(shape) has unknown dimensions") }
        let bytes = count * size
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes), alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, bytes))
        do {
            try self.init(wrapping: buffer, byteCount: bytes, elementType: type, shape: shape, environment: environment, owning: true)
        } catch {
            buffer.deallocate()
            throw error
        }
    }

    /// Wraps memory someone else owns (a shared initializer's buffer or mapping), which must outlive this value.
    convenience init(borrowing buffer: UnsafeMutableRawPointer, byteCount: Int, elementType: ORTElementType, shape: ORTShape,
                     environment: ORTEnvironment) throws(ORTError) {
        try self.init(wrapping: buffer, byteCount: byteCount, elementType: elementType, shape: shape, environment: environment, owning: false)
    }

    private init(wrapping buffer: UnsafeMutableRawPointer, byteCount: Int, elementType: ORTElementType, shape: ORTShape,
                 environment: ORTEnvironment, owning: Bool) throws(ORTError) {
        let api = environment.runtime.api
        var value: ORTHandle?
        let status = shape.withUnsafePointer {
            api.createTensorWithData(environment.cpuMemoryInfo, buffer, byteCount, $0, shape.count, elementType.rawValue, &value)
        }
        try api.check(status, "CreateTensorWithDataAsOrtValue(\(elementType) \(shape))")
        self.environment = environment
        self.handle = value!
        self.ownedBuffer = owning ? buffer : nil
        self.data = buffer
        self.byteCount = byteCount
        self.elementType = elementType
        self.shape = shape
        ORTLiveObjects.created()
    }

    /// Takes ownership of a tensor that ONNX Runtime allocated (a `Run` output).
    init(adopting value: ORTHandle, environment: ORTEnvironment) throws(ORTError) {
        let api = environment.runtime.api
        var info: ORTHandle?
        var type: Int32 = 0
        var rank = 0
        var dims = (Int64(0), Int64(0), Int64(0), Int64(0), Int64(0), Int64(0), Int64(0), Int64(0))
        var pointer: UnsafeMutableRawPointer?
        do throws(ORTError) {
            try api.check(api(.getTensorTypeAndShape, FnGetTensorTypeAndShape.self)(value, &info), "GetTensorTypeAndShape")
            defer { api.release(.releaseTensorTypeAndShapeInfo, info) }
            try api.check(api(.getTensorElementType, FnGetInt32Out.self)(info!, &type), "GetTensorElementType")
            try api.check(api(.getDimensionsCount, FnGetSizeOut.self)(info!, &rank), "GetDimensionsCount")
            guard rank <= ORTShape.maxRank else { throw ORTError(.outputType, "output of rank \(rank) exceeds \(ORTShape.maxRank)") }
            try withUnsafeMutableBytes(of: &dims) { (raw) throws(ORTError) in
                try api.check(api(.getDimensions, FnGetDimensions.self)(info!, raw.baseAddress!.assumingMemoryBound(to: Int64.self), rank),
                              "GetDimensions")
            }
            try api.check(api.getTensorMutableData(value, &pointer), "GetTensorMutableData")
        } catch {
            api.releaseValue(value)
            throw error
        }
        let shape = withUnsafeBytes(of: dims) { ORTShape(UnsafeBufferPointer(start: $0.baseAddress!.assumingMemoryBound(to: Int64.self), count: rank)) }
        self.environment = environment
        self.handle = value
        self.ownedBuffer = nil
        self.elementType = ORTElementType(rawValue: type) ?? .undefined
        self.shape = shape
        self.data = pointer ?? UnsafeMutableRawPointer(bitPattern: 0x10)!  // empty tensors may have no data
        self.byteCount = (shape.elementCount ?? 0) * (self.elementType.byteSize ?? 0)
        ORTLiveObjects.created()
    }

    deinit {
        environment.runtime.api.releaseValue(handle)
        ownedBuffer?.deallocate()
        ORTLiveObjects.released()
    }

    /// Number of elements.
    public var elementCount: Int { shape.elementCount ?? 0 }

    /// Reads the elements as `T`; throws when `T` is not the tensor's element type.
    public func withUnsafeBufferPointer<T: ORTScalar, R>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) throws -> R {
        guard T.ortElementType == elementType else {
            throw ORTError(.outputType, "tensor holds \(elementType), not \(T.ortElementType)")
        }
        return try body(UnsafeBufferPointer(start: data.assumingMemoryBound(to: T.self), count: elementCount))
    }

    /// Writes the elements as `T`; throws when `T` is not the tensor's element type.
    public func withUnsafeMutableBufferPointer<T: ORTScalar, R>(as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) throws -> R {
        guard T.ortElementType == elementType else {
            throw ORTError(.outputType, "tensor holds \(elementType), not \(T.ortElementType)")
        }
        return try body(UnsafeMutableBufferPointer(start: data.assumingMemoryBound(to: T.self), count: elementCount))
    }

    /// A copy of the elements as `T`.
    public func array<T: ORTScalar>(of type: T.Type) throws -> [T] {
        try withUnsafeBufferPointer(as: T.self) { Array($0) }
    }

    /// A non-owning view of this tensor, valid while the value is alive.
    public var view: ORTTensorView {
        ORTTensorView(data: data, byteCount: byteCount, elementType: elementType, shape: shape)
    }
}

/// A non-owning description of a tensor in caller memory; used by the allocation-free `ORTSession.run`.
public struct ORTTensorView: @unchecked Sendable {
    // The pointer is borrowed: the caller guarantees the memory outlives the run it is passed to.
    public var data: UnsafeMutableRawPointer
    public var byteCount: Int
    public var elementType: ORTElementType
    public var shape: ORTShape

    /// Describes `byteCount` bytes at `data` as a tensor of `elementType` and `shape`.
    public init(data: UnsafeMutableRawPointer, byteCount: Int, elementType: ORTElementType, shape: ORTShape) {
        self.data = data
        self.byteCount = byteCount
        self.elementType = elementType
        self.shape = shape
    }

    /// Describes a typed buffer as a tensor of `shape`.
    public init<T: ORTScalar>(_ buffer: UnsafeMutableBufferPointer<T>, shape: ORTShape) {
        self.init(data: UnsafeMutableRawPointer(buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!),
                  byteCount: buffer.count * MemoryLayout<T>.stride, elementType: T.ortElementType, shape: shape)
    }
}
