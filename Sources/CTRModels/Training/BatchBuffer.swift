import CTRData
import CTRFeatures

/// Encoded rows for one step: ids [capacity, sparseFields], dense [capacity, denseFields], labels.
///
/// Filled row by row straight from the reader's bytes, then handed to a model; reused for every batch.
public final class BatchBuffer {
    /// Maximum rows.
    public let capacity: Int
    /// Id columns per row.
    public let sparseFields: Int
    /// Dense columns per row.
    public let denseFields: Int
    /// Global ids, row-major.
    public let ids: UnsafeMutablePointer<Int64>
    /// Encoded dense values, row-major.
    public let dense: FloatBuffer
    /// Click labels.
    public let labels: FloatBuffer
    /// Rows filled so far.
    public var count = 0

    /// Allocates room for `capacity` rows.
    public init(capacity: Int, sparseFields: Int = CriteoSchema.categoricalCount, denseFields: Int = CriteoSchema.denseCount) {
        self.capacity = capacity
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        ids = .allocate(capacity: capacity * sparseFields)
        ids.initialize(repeating: 0, count: capacity * sparseFields)
        dense = FloatBuffer(count: capacity * denseFields)
        labels = FloatBuffer(count: capacity)
    }

    deinit { ids.deallocate() }

    /// Whether another row fits.
    public var isFull: Bool { count == capacity }

    /// Encodes `row` into the next slot.
    @inline(__always)
    public func append(_ row: RowView, encoder: FeatureEncoder) {
        row.encode(with: encoder, ids: ids + count * sparseFields, dense: dense.pointer + count * denseFields)
        labels[count] = row.label ?? 0
        count += 1
    }
}
