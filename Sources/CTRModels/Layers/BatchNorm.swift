/// PyTorch's `BatchNorm1d` over the columns of a [batch, width] tensor: momentum 0.1, epsilon 1e-5.
///
/// Training normalizes by the batch's mean and biased variance and moves the running averages (the variance's
/// unbiased, as PyTorch does); inference uses the running averages. Keeps what the backward pass needs
/// (the normalized values and each column's inverse standard deviation) from the last training forward.
public final class BatchNorm {
    /// PyTorch's default epsilon.
    public static let epsilon: Float = 1e-5
    /// PyTorch's default momentum for the running averages.
    public static let momentum: Float = 0.1

    /// Columns.
    public let width: Int
    /// Scale γ, [width].
    public let gamma: Parameter
    /// Shift β, [width].
    public let beta: Parameter
    /// Running mean, [width] (saved with the model, not trained by gradient).
    public let runningMean: FloatBuffer
    /// Running variance, [width].
    public let runningVariance: FloatBuffer
    private let normalized: FloatBuffer
    private let inverseStd: FloatBuffer

    /// Creates the layer; `reset()` makes it the identity at the start of training.
    public init(name: String, width: Int, maxBatch: Int) {
        self.width = width
        gamma = Parameter(name: "\(name)_gamma", shape: [width])
        beta = Parameter(name: "\(name)_beta", shape: [width])
        runningMean = FloatBuffer(count: width)
        runningVariance = FloatBuffer(count: width)
        normalized = FloatBuffer(count: maxBatch * width)
        inverseStd = FloatBuffer(count: width)
        reset()
    }

    /// γ = 1, β = 0, running mean 0 and variance 1 (PyTorch's initial state).
    public func reset() {
        for j in 0..<width {
            gamma.value[j] = 1
            beta.value[j] = 0
            runningMean[j] = 0
            runningVariance[j] = 1
        }
    }

    /// Writes `γ·x̂ + β` for `count` rows of `input` to `output` (which may be `input`).
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        let g = gamma.value.pointer, b = beta.value.pointer, w = width
        guard training else {
            for j in 0..<w {
                let s = g[j] / (runningVariance[j] + Self.epsilon).squareRoot()
                let shift = b[j] - runningMean[j] * s
                for row in 0..<count { output[row * w + j] = input[row * w + j] * s + shift }
            }
            return
        }
        let xhat = normalized.pointer
        let rows = Float(count)
        for j in 0..<w {
            var mean: Float = 0
            for row in 0..<count { mean += input[row * w + j] }
            mean /= rows
            var variance: Float = 0
            for row in 0..<count {
                let d = input[row * w + j] - mean
                variance += d * d
            }
            let biased = variance / rows
            let inverse = 1 / (biased + Self.epsilon).squareRoot()
            inverseStd[j] = inverse
            for row in 0..<count {
                let value = (input[row * w + j] - mean) * inverse
                xhat[row * w + j] = value
                output[row * w + j] = g[j] * value + b[j]
            }
            runningMean[j] = (1 - Self.momentum) * runningMean[j] + Self.momentum * mean
            // A batch of one row has no unbiased variance (PyTorch refuses it); the running variance stays.
            if count > 1 {
                runningVariance[j] = (1 - Self.momentum) * runningVariance[j] + Self.momentum * variance / (rows - 1)
            }
        }
    }

    /// Accumulates γ and β gradients and writes ∂loss/∂input to `inputGradient` (which may alias `outputGradient`).
    public func backward(outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>, count: Int) {
        let w = width, xhat = normalized.pointer, g = gamma.value.pointer
        let dGamma = gamma.gradient.pointer, dBeta = beta.gradient.pointer
        let rows = Float(count)
        for j in 0..<w {
            var sum: Float = 0, dot: Float = 0
            for row in 0..<count {
                let dy = outputGradient[row * w + j]
                sum += dy
                dot += dy * xhat[row * w + j]
            }
            dGamma[j] += dot
            dBeta[j] += sum
            let k = g[j] * inverseStd[j] / rows
            for row in 0..<count {
                let index = row * w + j
                inputGradient[index] = k * (rows * outputGradient[index] - sum - xhat[index] * dot)
            }
        }
    }
}
