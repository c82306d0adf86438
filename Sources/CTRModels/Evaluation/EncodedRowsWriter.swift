import CTRData
import CTRFeatures
import Foundation

/// Writes encoded rows as NumPy `.npy` files, one per model input (`prefix.<input>.npy`: ids int64 [N, C],
/// dense float32 [N, D], sequence ids int64 [N, T]) and `prefix.labels.npy` float32 [N].
///
/// Python tools (ONNX Runtime's static INT8 calibration) get exactly the tensors the Swift encoder
/// produces, so nothing re-implements the feature map in Python.
public enum EncodedRowsWriter {
    /// Encodes up to `maxRows` rows of `dataPath` (read with `dataset`, default the map's own layout) with
    /// `encoder` into one `.npy` file per model input and `prefix.labels.npy`; returns the row count.
    @discardableResult
    public static func write(
        dataPath: String, dataset: DatasetConfig? = nil, encoder: FeatureEncoder, maxRows: Int, prefix: String
    ) throws(CTRModelsError) -> Int {
        let reader = try Trainer.open(dataPath, dataset ?? encoder.map.datasetConfig, requiresLabel: false)
        var ids: [Int64] = [], dense: [Float] = [], sequences: [Int64] = [], labels: [Float] = []
        let one = BatchBuffer(capacity: 1, sparseFields: encoder.categoricalCount, denseFields: encoder.numericCount,
                              sequenceLength: encoder.sequenceWidth)
        do {
            try reader.forEachRow(limit: maxRows) { row in
                one.count = 0
                one.append(row, encoder: encoder)
                ids.append(contentsOf: UnsafeBufferPointer(start: one.ids, count: one.sparseFields))
                dense.append(contentsOf: UnsafeBufferPointer(start: one.dense.pointer, count: one.denseFields))
                sequences.append(contentsOf: UnsafeBufferPointer(start: one.sequences, count: one.sequenceLength))
                labels.append(one.labels[0])
            }
        } catch {
            throw .cannotRead(path: dataPath, reason: error.detail)
        }
        guard !labels.isEmpty else { throw .noData(path: dataPath) }
        let n = labels.count
        // Inputs of one role take consecutive columns of that role's rows: the whole row for bundles trained here,
        // one feature's columns each for imported ones (as the server's InputLayout feeds them).
        var next = (ids: 0, dense: 0, sequences: 0)
        func columns<T>(_ values: [T], stride: Int, first: Int, width: Int) -> [T] {
            guard first != 0 || width != stride else { return values }
            var out: [T] = []
            out.reserveCapacity(n * width)
            for row in 0..<n { out += values[(row * stride + first)..<(row * stride + first + width)] }
            return out
        }
        for input in encoder.map.signature.inputs {
            let path = prefix + "." + input.name + ".npy"
            let shape = [n] + Array(input.shape.dropFirst())
            switch input.role {
            case .categoricalIDs:
                try writeNPY(columns(ids, stride: one.sparseFields, first: next.ids, width: input.width), descriptor: "<i8", shape: shape, to: path)
                next.ids += input.width
            case .numericValues:
                try writeNPY(columns(dense, stride: one.denseFields, first: next.dense, width: input.width), descriptor: "<f4", shape: shape, to: path)
                next.dense += input.width
            case .sequenceIDs:
                try writeNPY(columns(sequences, stride: one.sequenceLength, first: next.sequences, width: input.width),
                             descriptor: "<i8", shape: shape, to: path)
                next.sequences += input.width
            case .probability: continue
            }
        }
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
