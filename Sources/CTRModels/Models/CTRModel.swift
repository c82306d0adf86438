import Foundation

/// A click-through-rate model trained in Swift: batched forward and backward passes over ``ModelInputs``
/// (ids [batch, sparseFields], dense values [batch, denseFields], sequence ids [batch, totalSequenceLength]),
/// producing one logit per row.
///
/// Models are single-owner mutable objects (not `Sendable`): one trainer drives one model.
public protocol CTRModel: AnyObject {
    /// Which family this is.
    var architecture: ModelArchitecture { get }
    /// Hyper-parameters it was built with.
    var hyperparameters: ModelHyperparameters { get }
    /// Input geometry.
    var shape: ModelShape { get }
    /// Largest batch the work buffers hold.
    var maxBatch: Int { get }
    /// Dense parameters, in a fixed order.
    var parameters: [Parameter] { get }
    /// Sparsely updated tables, in a fixed order.
    var embeddingTables: [EmbeddingTable] { get }
    /// The fully connected layers (they hold the train-only parts: dropout, batch statistics).
    var denseLayers: [DenseLayer] { get }
    /// Forward result, one logit per row.
    var logits: FloatBuffer { get }
    /// Threads for the parts of a step that are split by row.
    var threads: Int { get set }

    /// Computes `logits` for `count` ≤ `maxBatch` rows.
    func forward(_ inputs: ModelInputs, count: Int)
    /// Accumulates gradients of all parameters from ∂loss/∂logit; must follow `forward` on the same rows.
    func backward(logitGradient: UnsafePointer<Float>, _ inputs: ModelInputs, count: Int)
    /// Appends the inference graph from the declared inputs to the logit [batch, 1]; returns the logit's name.
    func exportLogit(into graph: inout ONNXGraphBuilder) -> String
}

extension CTRModel {
    /// No fully connected layers (LR).
    public var denseLayers: [DenseLayer] { [] }

    /// Switches dropout and batch statistics on (training steps) or off (validation, prediction, export).
    public func setTraining(_ training: Bool) {
        for layer in denseLayers { layer.isTraining = training }
    }

    /// Running statistics that are state but not trained by gradient (batch norm's), in a fixed order.
    public var stateBuffers: [FloatBuffer] {
        denseLayers.compactMap(\.batchNorm).flatMap { [$0.runningMean, $0.runningVariance] }
    }

    /// Zeroes every dense gradient and forgets sparse ones.
    public func zeroGradients() {
        for parameter in parameters { parameter.gradient.zero() }
        for table in embeddingTables { table.clearGradients() }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int {
        parameters.reduce(0) { $0 + $1.count } + embeddingTables.reduce(0) { $0 + $1.value.count }
    }

    /// Click probabilities for `count` rows of any size (processed in `maxBatch` chunks).
    public func predict(ids: [Int64], dense: [Float], sequences: [Int64] = [], count: Int) -> [Float] {
        let shape = shape
        precondition(ids.count == count * shape.sparseFields && dense.count == count * shape.denseFields
                     && sequences.count == count * shape.totalSequenceLength,
                     "predict: input sizes do not match the row count")
        var result = [Float](repeating: 0, count: count)
        ModelInputs.withArrays(ids: ids, dense: dense, sequences: sequences) { inputs in
            var start = 0
            while start < count {
                let n = min(maxBatch, count - start)
                forward(inputs.advanced(by: start, shape: shape), count: n)
                for i in 0..<n { result[start + i] = Sigmoid.value(logits[i]) }
                start += n
            }
        }
        return result
    }

    /// A copy of every trainable value (for keeping the best epoch).
    public func snapshot() -> ModelSnapshot {
        ModelSnapshot(parameters: parameters.map(\.value.array), tables: embeddingTables.map(\.value.array),
                      buffers: stateBuffers.map(\.array))
    }

    /// Restores values from a `snapshot()` of this model.
    public func restore(_ snapshot: ModelSnapshot) {
        for (parameter, values) in zip(parameters, snapshot.parameters) {
            values.withUnsafeBufferPointer { parameter.value.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
        for (table, values) in zip(embeddingTables, snapshot.tables) {
            values.withUnsafeBufferPointer { table.value.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
        for (buffer, values) in zip(stateBuffers, snapshot.buffers) {
            values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
    }
}

/// The trainable values of a model at one moment.
public struct ModelSnapshot: Sendable {
    /// Values of `CTRModel.parameters`, same order.
    public var parameters: [[Float]]
    /// Values of `CTRModel.embeddingTables`, same order.
    public var tables: [[Float]]
    /// Values of `CTRModel.stateBuffers` (batch norm's running statistics), same order.
    public var buffers: [[Float]] = []
}
