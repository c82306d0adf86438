import CTRFeatures
import CTRModels
import CTRServing
import ONNXRuntime

/// Runs encoded batches through a bundle's ONNX Runtime session the way the server does: by the bundle's
/// signature, through ``InputLayout`` (an input with no fields is absent; imported models get one input per
/// feature), reading and writing caller memory.
struct ORTBatchPredictor: BatchPredictor {
    let session: ORTSession
    let layout: InputLayout

    /// Checks `session` against `map`'s signature, as loading a bundle for serving does.
    init(session: ORTSession, map: FeatureMap, path: String) throws(ServingError) {
        try InputLayout.checkSignature(of: session, map: map, path: path)
        self.session = session
        layout = InputLayout(signature: map.signature)
    }

    func predict(_ batch: BatchBuffer, into probabilities: UnsafeMutablePointer<Float>) throws {
        let rows = batch.count
        // The batch and the layout come from the same map, so their widths agree; say so if they ever do not.
        guard batch.sparseFields == layout.sparseWidth, batch.denseFields == layout.denseWidth,
              batch.sequenceLength == layout.sequenceWidth else {
            throw ServingError(.inference, "the batch has \(batch.sparseFields)/\(batch.denseFields)/\(batch.sequenceLength) columns, the model's signature \(layout.sparseWidth)/\(layout.denseWidth)/\(layout.sequenceWidth)")
        }
        if let error = layout.run(session, rows: rows, ids: batch.ids, dense: batch.dense.pointer, sequences: batch.sequences,
                                  output: probabilities) {
            throw error
        }
    }
}
