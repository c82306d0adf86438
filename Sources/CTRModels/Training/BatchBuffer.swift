import CTRData
import CTRFeatures

/// Encoded rows for one step: ids [capacity, sparseFields], dense [capacity, denseFields],
/// sequence ids [capacity, sequenceLength], labels.
///
/// Filled row by row straight from the reader's bytes, then handed to a model; reused for every batch.
public final class BatchBuffer {
    /// Maximum rows.
    public let capacity: Int
    /// Id columns per row.
    public let sparseFields: Int
    /// Dense columns per row.
    public let denseFields: Int
    /// Sequence columns per row (all sequence fields; ``ModelShape/totalSequenceLength``).
    public let sequenceLength: Int
    /// Global ids, row-major.
    public let ids: UnsafeMutablePointer<Int64>
    /// Encoded dense values, row-major.
    public let dense: FloatBuffer
    /// Sequence ids, row-major; at least one (unused) element when there are no sequence columns.
    public let sequences: UnsafeMutablePointer<Int64>
    /// Click labels.
    public let labels: FloatBuffer
    /// Rows filled so far.
    public var count = 0

    /// Allocates room for `capacity` rows.
    public init(capacity: Int, sparseFields: Int = 26, denseFields: Int = 13, sequenceLength: Int = 0) {
        self.capacity = capacity
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.sequenceLength = sequenceLength
        ids = .allocate(capacity: capacity * sparseFields)
        ids.initialize(repeating: 0, count: capacity * sparseFields)
        dense = FloatBuffer(count: capacity * denseFields)
        // One element at least, so `inputs()` always points somewhere valid.
        sequences = .allocate(capacity: max(1, capacity * sequenceLength))
        sequences.initialize(repeating: 0, count: max(1, capacity * sequenceLength))
        labels = FloatBuffer(count: capacity)
    }

    deinit {
        ids.deallocate()
        sequences.deallocate()
    }

    /// Whether another row fits.
    public var isFull: Bool { count == capacity }

    /// The model inputs from row `row` on.
    @inline(__always)
    public func inputs(from row: Int = 0) -> ModelInputs {
        ModelInputs(ids: ids + row * sparseFields, dense: dense.pointer + row * denseFields,
                    sequences: sequences + row * sequenceLength)
    }

    /// Allocates room for `capacity` rows of `shape`'s inputs.
    public convenience init(capacity: Int, shape: ModelShape) {
        self.init(capacity: capacity, sparseFields: shape.sparseFields, denseFields: shape.denseFields,
                  sequenceLength: shape.totalSequenceLength)
    }

    /// Encodes a dataset row into the next slot.
    @inline(__always)
    public func append(_ row: DatasetRow, encoder: FeatureEncoder) {
        // A full buffer would be written past its end: trap instead (one compare per row).
        precondition(count < capacity, "BatchBuffer.append: \(capacity) rows already")
        row.encode(with: encoder, ids: ids + count * sparseFields, dense: dense.pointer + count * denseFields,
                   sequences: sequenceLength > 0 ? sequences + count * sequenceLength : nil)
        labels[count] = row.label ?? 0
        count += 1
    }

    /// Encodes `row` into the next slot (Criteo rows: ids and dense values; sequence columns are left as they are).
    @inline(__always)
    public func append(_ row: RowView, encoder: FeatureEncoder) {
        precondition(count < capacity, "BatchBuffer.append: \(capacity) rows already")
        row.encode(with: encoder, ids: ids + count * sparseFields, dense: dense.pointer + count * denseFields)
        labels[count] = row.label ?? 0
        count += 1
    }
}
