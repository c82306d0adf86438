/// A tensor shape of up to `ORTShape.maxRank` dimensions, stored inline so building one never allocates.
public struct ORTShape: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The highest rank an inline shape holds; CTR tensors use 1 to 3.
    public static let maxRank = 8

    private var dims: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
    public private(set) var count: Int = 0

    /// Creates a shape from dimensions; traps beyond `maxRank` (use `init(checking:)` for untrusted input).
    public init<C: Collection>(_ dimensions: C) where C.Element: BinaryInteger {
        precondition(dimensions.count <= Self.maxRank, "rank \(dimensions.count) exceeds ORTShape.maxRank")
        for dimension in dimensions { append(Int64(dimension)) }
    }

    /// Creates a shape, or nil when it has more than `maxRank` dimensions.
    public init?<C: Collection>(checking dimensions: C) where C.Element: BinaryInteger {
        guard dimensions.count <= Self.maxRank else { return nil }
        self.init(dimensions)
    }

    public init(arrayLiteral elements: Int64...) { self.init(elements) }

    /// A batch of `batch` rows of `inner`-shaped rows, built without the array `[batch] + inner` would allocate.
    public init(batch: Int64, inner: [Int64]) {
        precondition(inner.count < Self.maxRank, "rank \(inner.count + 1) exceeds ORTShape.maxRank")
        append(batch)
        for dimension in inner { append(dimension) }
    }

    private mutating func append(_ value: Int64) {
        withUnsafeMutableBytes(of: &dims) { $0.storeBytes(of: value, toByteOffset: count * 8, as: Int64.self) }
        count += 1
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Int64 {
        get {
            precondition(position >= 0 && position < count, "shape index out of range")
            return withUnsafeBytes(of: dims) { $0.load(fromByteOffset: position * 8, as: Int64.self) }
        }
        set {
            precondition(position >= 0 && position < count, "shape index out of range")
            withUnsafeMutableBytes(of: &dims) { $0.storeBytes(of: newValue, toByteOffset: position * 8, as: Int64.self) }
        }
    }

    /// Number of elements, or nil when a dimension is negative (unknown) or the product overflows.
    public var elementCount: Int? {
        var total = 1
        for dimension in self {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: Int(dimension))
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// Calls `body` with the dimensions as contiguous `int64_t`s, as the C API wants them.
    func withUnsafePointer<R>(_ body: (UnsafePointer<Int64>) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: dims) { try body($0.baseAddress!.assumingMemoryBound(to: Int64.self)) }
    }

    public static func == (lhs: ORTShape, rhs: ORTShape) -> Bool { lhs.elementsEqual(rhs) }
    public func hash(into hasher: inout Hasher) { for dimension in self { hasher.combine(dimension) } }

    public var description: String { "[" + map { $0 < 0 ? "?" : String($0) }.joined(separator: ",") + "]" }
}
