import Foundation

/// Adam (PyTorch's defaults) with FuxiCTR's regularizers and gradient clipping.
///
/// Two L2 terms on the embeddings, because they trade exactness for speed differently:
/// - `embeddingRegularizer` is FuxiCTR's `embedding_regularizer`: `(λ/2)·‖W‖²` over every embedding table and
///   the numeric-field embeddings, every step. Every row of a table then has a gradient (`λ·w`) each step, so
///   those tables take a dense Adam step over all rows, exactly as PyTorch does (`rank_model.py`'s
///   `regularization_loss`). The step's cost grows with the vocabulary: fine for FuxiCTR-sized datasets, slow at
///   Criteo scale (millions of rows), where the lazy form below is the usual equivalent.
/// - `embeddingL2` is the lazy form: only rows used in the batch are updated, and their L2 term is added for
///   those rows only, keeping a step independent of the vocabulary size.
/// `weightL2` is FuxiCTR's `net_regularizer`: every other parameter, biases included. Gradients are clipped to a
/// global norm of `maxGradientNorm` (FuxiCTR's `clip_grad_norm_(..., 10)`), regularization terms included.
public final class AdamOptimizer {
    /// Hyper-parameters.
    public let configuration: Configuration
    /// Number of completed steps.
    public private(set) var step = 0
    /// The step size now: the configuration's, divided by 10 at each plateau (``reduceLearningRate(factor:minimum:)``).
    public private(set) var learningRate: Float

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
        /// Lazy L2 coefficient on the embedding rows of each batch (BARS Criteo_x4_001: 1e-5).
        public var embeddingL2: Float = 1e-5
        /// L2 coefficient on dense weights (FuxiCTR's `net_regularizer`, 0 by default).
        public var weightL2: Float = 0
        /// FuxiCTR's `embedding_regularizer`: L2 over whole embedding tables every step (0: off).
        public var embeddingRegularizer: Float = 0
        /// Global gradient-norm clip (FuxiCTR: 10); nil: no clipping.
        public var maxGradientNorm: Float? = 10

        /// Creates a configuration; every argument defaults to the FuxiCTR/PyTorch value.
        public init(learningRate: Float = 1e-3, embeddingL2: Float = 1e-5, weightL2: Float = 0,
                    embeddingRegularizer: Float = 0, maxGradientNorm: Float? = 10) {
            self.learningRate = learningRate
            self.embeddingL2 = embeddingL2
            self.weightL2 = weightL2
            self.embeddingRegularizer = embeddingRegularizer
            self.maxGradientNorm = maxGradientNorm
        }

        private enum CodingKeys: String, CodingKey {
            case learningRate, beta1, beta2, epsilon, embeddingL2, weightL2, embeddingRegularizer, maxGradientNorm
        }

        /// Decodes a configuration; model.json written before the regularizers and clipping existed had neither.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            learningRate = try c.decode(Float.self, forKey: .learningRate)
            beta1 = try c.decode(Float.self, forKey: .beta1)
            beta2 = try c.decode(Float.self, forKey: .beta2)
            epsilon = try c.decode(Float.self, forKey: .epsilon)
            embeddingL2 = try c.decode(Float.self, forKey: .embeddingL2)
            weightL2 = try c.decode(Float.self, forKey: .weightL2)
            embeddingRegularizer = try c.decodeIfPresent(Float.self, forKey: .embeddingRegularizer) ?? 0
            maxGradientNorm = c.contains(.maxGradientNorm) ? try c.decodeIfPresent(Float.self, forKey: .maxGradientNorm) : nil
        }
    }

    /// Creates an optimizer with `configuration`.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        learningRate = configuration.learningRate
    }

    /// Multiplies the step size by `factor`, not below `minimum` (FuxiCTR's `lr_decay`); returns the new step size.
    @discardableResult
    public func reduceLearningRate(factor: Float = 0.1, minimum: Float = 1e-6) -> Float {
        learningRate = max(learningRate * factor, minimum)
        return learningRate
    }

    /// Applies one Adam step to every parameter and table of `model` from their current gradients.
    public func apply(to model: any CTRModel) {
        step += 1
        let t = Float(step)
        let correction1 = 1 - pow(configuration.beta1, t)
        let correction2 = 1 - pow(configuration.beta2, t)
        var scale: Float = 1
        if let limit = configuration.maxGradientNorm {
            let norm = gradientNorm(of: model).squareRoot()
            if norm > limit { scale = limit / (norm + 1e-6) }
        }
        let step = Step(stepSize: learningRate / correction1, inverseCorrection2: 1 / correction2, scale: scale)
        for parameter in model.parameters { update(parameter, step) }
        for table in model.embeddingTables { update(table, step) }
    }

    private struct Step {
        var stepSize: Float
        var inverseCorrection2: Float
        /// Gradient scale from clipping (1 when the norm is within the limit).
        var scale: Float
    }

    /// The L2 coefficient a dense parameter gets.
    private func l2(_ parameter: Parameter) -> Float {
        parameter.isEmbedding ? configuration.embeddingRegularizer : configuration.weightL2
    }

    /// The squared global norm of the gradients Adam will see, regularization terms included.
    private func gradientNorm(of model: any CTRModel) -> Float {
        var sum: Float = 0
        for parameter in model.parameters {
            let lambda = l2(parameter), w = parameter.value.pointer, g = parameter.gradient.pointer
            for i in 0..<parameter.count {
                let gradient = g[i] + lambda * w[i]
                sum += gradient * gradient
            }
        }
        let whole = configuration.embeddingRegularizer > 0
        let lambda = whole ? configuration.embeddingRegularizer : configuration.embeddingL2
        for table in model.embeddingTables {
            let dimension = table.dimension
            if whole {
                // Every row: λ·w, plus the batch gradient where the row was used.
                let w = table.value.pointer
                for i in 0..<table.value.count { sum += (lambda * w[i]) * (lambda * w[i]) }
                for (slot, row) in table.touchedRows.enumerated() {
                    let w = table.value.pointer + Int(row) * dimension, g = table.gradient(slot: slot)
                    for k in 0..<dimension {
                        let total = g[k] + lambda * w[k]
                        sum += total * total - (lambda * w[k]) * (lambda * w[k])
                    }
                }
            } else {
                for (slot, row) in table.touchedRows.enumerated() {
                    let w = table.value.pointer + Int(row) * dimension, g = table.gradient(slot: slot)
                    for k in 0..<dimension {
                        let total = g[k] + lambda * w[k]
                        sum += total * total
                    }
                }
            }
        }
        return sum
    }

    private func update(_ parameter: Parameter, _ step: Step) {
        let c = configuration, lambda = l2(parameter)
        let w = parameter.value.pointer, g = parameter.gradient.pointer
        let m = parameter.firstMoment.pointer, v = parameter.secondMoment.pointer
        for i in 0..<parameter.count {
            let gradient = (g[i] + lambda * w[i]) * step.scale
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * gradient
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * gradient * gradient
            w[i] -= step.stepSize * m[i] / ((v[i] * step.inverseCorrection2).squareRoot() + c.epsilon)
        }
    }

    private func update(_ table: EmbeddingTable, _ step: Step) {
        let c = configuration
        let dimension = table.dimension
        if c.embeddingRegularizer > 0 {
            // FuxiCTR's whole-table penalty: every row has a gradient every step, so every row takes a dense step.
            let lambda = c.embeddingRegularizer
            for row in 0..<table.rows {
                let offset = row * dimension
                let w = table.value.pointer + offset
                let m = table.firstMoment.pointer + offset, v = table.secondMoment.pointer + offset
                let g = table.batchGradient(ofRow: row)
                for k in 0..<dimension {
                    let gradient = ((g?[k] ?? 0) + lambda * w[k]) * step.scale
                    m[k] = c.beta1 * m[k] + (1 - c.beta1) * gradient
                    v[k] = c.beta2 * v[k] + (1 - c.beta2) * gradient * gradient
                    w[k] -= step.stepSize * m[k] / ((v[k] * step.inverseCorrection2).squareRoot() + c.epsilon)
                }
            }
            table.clearGradients()
            return
        }
        for (slot, row) in table.touchedRows.enumerated() {
            let offset = Int(row) * dimension
            let w = table.value.pointer + offset
            let m = table.firstMoment.pointer + offset, v = table.secondMoment.pointer + offset
            let g = table.gradient(slot: slot)
            for k in 0..<dimension {
                let gradient = (g[k] + c.embeddingL2 * w[k]) * step.scale
                m[k] = c.beta1 * m[k] + (1 - c.beta1) * gradient
                v[k] = c.beta2 * v[k] + (1 - c.beta2) * gradient * gradient
                w[k] -= step.stepSize * m[k] / ((v[k] * step.inverseCorrection2).squareRoot() + c.epsilon)
            }
        }
        table.clearGradients()
    }
}
