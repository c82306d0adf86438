/// A fixed-size, zero-initialised block of `Float`s that owns its memory.
///
/// Layers keep their activations and gradients in these so that a training step allocates nothing;
/// the buffer is freed in `deinit`. Not thread-safe: one owner mutates it at a time.
public final class FloatBuffer {
    /// Number of elements.
    public let count: Int
    /// Start of the storage; valid for the buffer's lifetime.
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` zeroed elements.
    public init(count: Int) {
        self.count = count
        // Allocate at least one element so `pointer` is always valid, even for empty tensors.
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Copies `values` into a new buffer.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// Element access, for tests and cold paths.
    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    /// Sets the first `n` elements (default: all) to zero.
    public func zero(_ n: Int? = nil) {
        pointer.update(repeating: 0, count: n ?? count)
    }

    /// The contents as an array (cold path).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Copies all elements of `other` (which must have the same count) into this buffer.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: size mismatch")
        pointer.update(from: other.pointer, count: count)
    }
}
