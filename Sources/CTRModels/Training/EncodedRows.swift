/// Training rows encoded once and kept in memory, so every epoch can visit them in a new order (FuxiCTR's
/// `shuffle: true`) without reading and encoding the file again.
///
/// Row-major like ``BatchBuffer``: ids [count, sparseFields], dense [count, denseFields], sequence ids
/// [count, sequenceLength], labels [count]. Filled once, then only read.
final class EncodedRows {
    let sparseFields: Int
    let denseFields: Int
    let sequenceLength: Int
    private(set) var ids: [Int64] = []
    private(set) var dense: [Float] = []
    private(set) var sequences: [Int64] = []
    private(set) var labels: [Float] = []

    /// Bytes one row takes; `Trainer` keeps rows in memory only while the total stays under a limit.
    static func bytesPerRow(sparseFields: Int, denseFields: Int, sequenceLength: Int) -> Int {
        8 * (sparseFields + sequenceLength) + 4 * (denseFields + 1)
    }

    init(sparseFields: Int, denseFields: Int, sequenceLength: Int, reserving rows: Int) {
        self.sparseFields = sparseFields
        self.denseFields = denseFields
        self.sequenceLength = sequenceLength
        ids.reserveCapacity(rows * sparseFields)
        dense.reserveCapacity(rows * denseFields)
        sequences.reserveCapacity(rows * sequenceLength)
        labels.reserveCapacity(rows)
    }

    var count: Int { labels.count }

    /// Appends the rows a batch holds.
    func append(_ batch: BatchBuffer) {
        let n = batch.count
        ids.append(contentsOf: UnsafeBufferPointer(start: batch.ids, count: n * sparseFields))
        dense.append(contentsOf: UnsafeBufferPointer(start: batch.dense.pointer, count: n * denseFields))
        if sequenceLength > 0 { sequences.append(contentsOf: UnsafeBufferPointer(start: batch.sequences, count: n * sequenceLength)) }
        labels.append(contentsOf: UnsafeBufferPointer(start: batch.labels.pointer, count: n))
    }

    /// Copies row `row` into the batch's next slot.
    func copy(row: Int, into batch: BatchBuffer) {
        precondition(batch.count < batch.capacity, "EncodedRows.copy: the batch is full")
        let slot = batch.count
        ids.withUnsafeBufferPointer { (batch.ids + slot * sparseFields).update(from: $0.baseAddress! + row * sparseFields, count: sparseFields) }
        if denseFields > 0 {
            dense.withUnsafeBufferPointer { (batch.dense.pointer + slot * denseFields).update(from: $0.baseAddress! + row * denseFields, count: denseFields) }
        }
        if sequenceLength > 0 {
            sequences.withUnsafeBufferPointer {
                (batch.sequences + slot * sequenceLength).update(from: $0.baseAddress! + row * sequenceLength, count: sequenceLength)
            }
        }
        batch.labels[slot] = labels[row]
        batch.count += 1
    }
}
