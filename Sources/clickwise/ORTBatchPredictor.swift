import CTRModels
import ONNXRuntime

/// Runs encoded batches through an ONNX Runtime session, reading and writing caller memory (no copies).
struct ORTBatchPredictor: BatchPredictor {
    /// The session; its inputs are (sparse ids, dense[, sequence ids]) and its first output the probability.
    let session: ORTSession

    func predict(_ batch: BatchBuffer, into probabilities: UnsafeMutablePointer<Float>) throws {
        let n = Int64(batch.count)
        var inputs = [
            ORTTensorView(UnsafeMutableBufferPointer(start: batch.ids, count: batch.count * batch.sparseFields),
                          shape: [n, Int64(batch.sparseFields)]),
            ORTTensorView(UnsafeMutableBufferPointer(start: batch.dense.pointer, count: batch.count * batch.denseFields),
                          shape: [n, Int64(batch.denseFields)]),
        ]
        // Models with sequence fields take a third input; Criteo batches have no sequence columns.
        if batch.sequenceLength > 0 {
            inputs.append(ORTTensorView(UnsafeMutableBufferPointer(start: batch.sequences, count: batch.count * batch.sequenceLength),
                                        shape: [n, Int64(batch.sequenceLength)]))
        }
        try session.run(
            inputs: inputs,
            outputs: [ORTTensorView(UnsafeMutableBufferPointer(start: probabilities, count: batch.count), shape: [n, 1])])
    }
}
