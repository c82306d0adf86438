import Foundation

/// Adam (PyTorch's defaults) with L2 on embedding rows, as FuxiCTR's `embedding_regularizer`.
///
/// Embedding tables get lazy Adam: only rows used in the batch are updated, and their L2 term
/// (gradient `l2 * w`) is added for those rows only. FuxiCTR adds the penalty over the whole table;
/// per-batch application is the usual sparse-training equivalent and keeps a step independent of
/// the vocabulary size.
public final class AdamOptimizer {
    /// Hyper-parameters.
    public let configuration: Configuration
    /// Number of completed steps.
    public private(set) var step = 0

    /// Adam's hyper-parameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Step size.
        public var learningRate: Float = 1e-3
        /// First-moment decay.
        public var beta1: Float = 0.9
        /// Second-moment decay.
        public var beta2: Float = 0.999
        /// Denominator guard.
        public var epsilon: Float = 1e-8
        /// L2 coefficient on embedding rows (BARS Criteo_x4_001: 1e-5).
        public var embeddingL2: Float = 1e-5
        /// L2 coefficient on dense weights (FuxiCTR's `net_regularizer`, 0 by default).
        public var weightL2: Float = 0

        /// Creates a configuration; every argument defaults to the FuxiCTR/PyTorch value.
        public init(learningRate: Float = 1e-3, embeddingL2: Float = 1e-5, weightL2: Float = 0) {
            self.learningRate = learningRate
            self.embeddingL2 = embeddingL2
            self.weightL2 = weightL2
        }
    }

    /// Creates an optimizer with `configuration`.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Applies one Adam step to every parameter and table of `model` from their current gradients.
    public func apply(to model: any CTRModel) {
        step += 1
        let t = Float(step)
        let correction1 = 1 - pow(configuration.beta1, t)
        let correction2 = 1 - pow(configuration.beta2, t)
        for parameter in model.parameters { update(parameter, correction1: correction1, correction2: correction2) }
        for table in model.embeddingTables { update(table, correction1: correction1, correction2: correction2) }
    }

    private func update(_ parameter: Parameter, correction1: Float, correction2: Float) {
        let c = configuration
        let stepSize = c.learningRate / correction1
        let inverseCorrection2 = 1 / correction2
        let w = parameter.value.pointer, g = parameter.gradient.pointer
        let m = parameter.firstMoment.pointer, v = parameter.secondMoment.pointer
        for i in 0..<parameter.count {
            let gradient = g[i] + c.weightL2 * w[i]
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * gradient
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * gradient * gradient
            w[i] -= stepSize * m[i] / ((v[i] * inverseCorrection2).squareRoot() + c.epsilon)
        }
    }

    private func update(_ table: EmbeddingTable, correction1: Float, correction2: Float) {
        let c = configuration
        let stepSize = c.learningRate / correction1
        let inverseCorrection2 = 1 / correction2
        let dimension = table.dimension
        for (slot, row) in table.touchedRows.enumerated() {
            let offset = Int(row) * dimension
            let w = table.value.pointer + offset
            let m = table.firstMoment.pointer + offset, v = table.secondMoment.pointer + offset
            let g = table.gradient(slot: slot)
            for k in 0..<dimension {
                let gradient = g[k] + c.embeddingL2 * w[k]
                m[k] = c.beta1 * m[k] + (1 - c.beta1) * gradient
                v[k] = c.beta2 * v[k] + (1 - c.beta2) * gradient * gradient
                w[k] -= stepSize * m[k] / ((v[k] * inverseCorrection2).squareRoot() + c.epsilon)
            }
        }
        table.clearGradients()
    }
}
