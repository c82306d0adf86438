/// An embedding table trained with sparse (lazy) updates: only rows seen in a batch are touched.
///
/// A dense Adam step over millions of rows would dominate the step time, so gradients are kept per
/// touched row in first-seen order (deterministic for a given batch) and the optimizer updates only those.
public final class EmbeddingTable {
    /// Stable name, reused for the ONNX initializer.
    public let name: String
    /// Number of rows (vocabulary size).
    public let rows: Int
    /// Width of a row.
    public let dimension: Int
    /// Values, `rows * dimension`, row-major.
    public let value: FloatBuffer
    let firstMoment: FloatBuffer
    let secondMoment: FloatBuffer

    /// Rows with a gradient in the current batch, in first-seen order.
    public private(set) var touchedRows: [Int32] = []
    /// Per row: its slot in `slotGradients`, or -1 when untouched in this batch.
    private let slotOfRow: UnsafeMutablePointer<Int32>
    private var slotGradients: FloatBuffer
    private var slotCapacity: Int

    /// Creates a zero table; `expectedTouchedRows` sizes the per-batch gradient store (it grows if needed).
    public init(name: String, rows: Int, dimension: Int, expectedTouchedRows: Int = 1024) {
        self.name = name
        self.rows = rows
        self.dimension = dimension
        value = FloatBuffer(count: rows * dimension)
        firstMoment = FloatBuffer(count: rows * dimension)
        secondMoment = FloatBuffer(count: rows * dimension)
        slotOfRow = .allocate(capacity: max(rows, 1))
        slotOfRow.initialize(repeating: -1, count: max(rows, 1))
        slotCapacity = max(16, min(expectedTouchedRows, rows))
        slotGradients = FloatBuffer(count: slotCapacity * dimension)
        touchedRows.reserveCapacity(slotCapacity)
    }

    deinit { slotOfRow.deallocate() }

    /// Start of row `row`'s values.
    @inline(__always)
    public func row(_ row: Int) -> UnsafeMutablePointer<Float> { value.pointer + row * dimension }

    /// The gradient accumulator of `row`, created (zeroed) on first use in this batch.
    @inline(__always)
    public func gradientRow(_ row: Int) -> UnsafeMutablePointer<Float> {
        let slot = slotOfRow[row]
        if slot >= 0 { return slotGradients.pointer + Int(slot) * dimension }
        let newSlot = touchedRows.count
        if newSlot == slotCapacity { growSlots() }
        slotOfRow[row] = Int32(newSlot)
        touchedRows.append(Int32(row))
        let pointer = slotGradients.pointer + newSlot * dimension
        pointer.update(repeating: 0, count: dimension)
        return pointer
    }

    /// The accumulated gradient of `row` in this batch (zeros when untouched); for tests and the optimizer.
    public func gradient(ofRow row: Int) -> [Float] {
        let slot = slotOfRow[row]
        guard slot >= 0 else { return [Float](repeating: 0, count: dimension) }
        return Array(UnsafeBufferPointer(start: slotGradients.pointer + Int(slot) * dimension, count: dimension))
    }

    /// The accumulated gradient of `row` in this batch, or nil when the batch did not use it (no allocation).
    @inline(__always)
    func batchGradient(ofRow row: Int) -> UnsafeMutablePointer<Float>? {
        let slot = slotOfRow[row]
        return slot >= 0 ? slotGradients.pointer + Int(slot) * dimension : nil
    }

    /// Gradient storage of the `index`-th touched row.
    @inline(__always)
    func gradient(slot index: Int) -> UnsafeMutablePointer<Float> { slotGradients.pointer + index * dimension }

    /// Forgets this batch's gradients.
    public func clearGradients() {
        for row in touchedRows { slotOfRow[Int(row)] = -1 }
        touchedRows.removeAll(keepingCapacity: true)
    }

    /// Fills the values from a normal distribution with standard deviation `std`.
    public func fillNormal(std: Double, using generator: inout SeededGenerator) {
        for i in 0..<value.count { value[i] = Float(generator.nextNormal() * std) }
    }

    private func growSlots() {
        let newCapacity = slotCapacity * 2
        let grown = FloatBuffer(count: newCapacity * dimension)
        grown.pointer.update(from: slotGradients.pointer, count: slotCapacity * dimension)
        slotGradients = grown
        slotCapacity = newCapacity
    }
}
