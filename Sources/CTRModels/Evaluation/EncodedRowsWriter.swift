import CTRData
import CTRFeatures
import Foundation

/// Writes encoded rows as NumPy `.npy` files (ids int64 [N, 26], dense float32 [N, 13], labels float32 [N]).
///
/// Python tools (ONNX Runtime's static INT8 calibration) get exactly the tensors the Swift encoder
/// produces, so nothing re-implements the feature map in Python.
public enum EncodedRowsWriter {
    /// Encodes up to `maxRows` rows of `dataPath` with `encoder` into `prefix.sparse_ids.npy`,
    /// `prefix.dense.npy` and `prefix.labels.npy`; returns the row count.
    @discardableResult
    public static func write(
        dataPath: String, encoder: FeatureEncoder, maxRows: Int, prefix: String
    ) throws(CTRModelsError) -> Int {
        let reader: CriteoReader
        do { reader = try CriteoReader(path: dataPath) } catch { throw .cannotRead(path: dataPath, reason: error.detail) }
        var ids: [Int64] = [], dense: [Float] = [], labels: [Float] = []
        let one = BatchBuffer(capacity: 1)
        do {
            try reader.forEachRow(limit: maxRows) { row in
                one.count = 0
                one.append(row, encoder: encoder)
                ids.append(contentsOf: UnsafeBufferPointer(start: one.ids, count: one.sparseFields))
                dense.append(contentsOf: UnsafeBufferPointer(start: one.dense.pointer, count: one.denseFields))
                labels.append(one.labels[0])
            }
        } catch {
            throw .cannotRead(path: dataPath, reason: error.detail)
        }
        guard !labels.isEmpty else { throw .noData(path: dataPath) }
        let n = labels.count
        try writeNPY(ids, descriptor: "<i8", shape: [n, CriteoSchema.categoricalCount], to: prefix + ".sparse_ids.npy")
        try writeNPY(dense, descriptor: "<f4", shape: [n, CriteoSchema.denseCount], to: prefix + ".dense.npy")
        try writeNPY(labels, descriptor: "<f4", shape: [n], to: prefix + ".labels.npy")
        return n
    }

    /// NPY format 1.0: magic, header length, a Python-dict header padded to 64 bytes, raw little-endian data.
    static func writeNPY<T>(_ values: [T], descriptor: String, shape: [Int], to path: String) throws(CTRModelsError) {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
