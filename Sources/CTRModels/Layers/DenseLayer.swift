/// A fully connected layer `y = dropout(act(bn(x W + b)))` on BLAS, with W stored [input, output]: FuxiCTR's
/// `MLP_Block` layer (Linear, then BatchNorm1d, then the activation, then Dropout), each part optional.
///
/// Batch normalization normalizes by the batch's statistics while training and by running averages otherwise
/// (PyTorch's `BatchNorm1d`: momentum 0.1, epsilon 1e-5, the running variance unbiased); the exported graph folds
/// it into the Gemm's weights (``foldedAffine()``). Dropout zeroes each output with probability `dropout` while
/// training and scales the kept ones by `1 / (1 - dropout)`, so inference is the identity.
public final class DenseLayer {
    /// What follows the affine map.
    public enum Activation: String, Codable, Sendable {
        /// Identity.
        case none
        /// max(0, x).
        case relu
    }

    /// Input width.
    public let inputSize: Int
    /// Output width.
    public let outputSize: Int
    /// Activation after the affine map.
    public let activation: Activation
    /// Weight, [inputSize, outputSize].
    public let weight: Parameter
    /// Bias, [outputSize].
    public let bias: Parameter
    /// Batch normalization after the affine map, if any.
    public let batchNorm: BatchNorm?
    /// Probability of zeroing an output while training (0: no dropout).
    public let dropout: Float
    /// Whether `forward` trains (batch statistics, dropout) or infers (running statistics, no dropout).
    public var isTraining = false
    /// Forward result, [maxBatch, outputSize].
    public let output: FloatBuffer
    /// Gradient with respect to the input, [maxBatch, inputSize].
    public let inputGradient: FloatBuffer
    private let preActivationGradient: FloatBuffer
    /// The affine map's result before batch normalization, [maxBatch, outputSize] (only with batch norm).
    private let affineOutput: FloatBuffer?
    /// Per output: 0 (dropped) or `1 / (1 - dropout)` (kept), [maxBatch, outputSize] (only with dropout).
    private let dropoutScale: FloatBuffer?
    private var generator: SeededGenerator

    /// Creates the layer for batches of at most `maxBatch` rows; parameters are named `\(name)_weight`/`_bias`
    /// (and `\(name)_bn_gamma`/`_bn_beta`); `seed` drives the dropout masks.
    public init(name: String, inputSize: Int, outputSize: Int, activation: Activation, maxBatch: Int,
                batchNorm: Bool = false, dropout: Float = 0, seed: UInt64 = 0) {
        precondition(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weight = Parameter(name: "\(name)_weight", shape: [inputSize, outputSize])
        bias = Parameter(name: "\(name)_bias", shape: [outputSize])
        self.batchNorm = batchNorm ? BatchNorm(name: "\(name)_bn", width: outputSize, maxBatch: maxBatch) : nil
        self.dropout = dropout
        output = FloatBuffer(count: maxBatch * outputSize)
        inputGradient = FloatBuffer(count: maxBatch * inputSize)
        preActivationGradient = FloatBuffer(count: maxBatch * outputSize)
        affineOutput = batchNorm ? FloatBuffer(count: maxBatch * outputSize) : nil
        dropoutScale = dropout > 0 ? FloatBuffer(count: maxBatch * outputSize) : nil
        generator = SeededGenerator(seed: seed ^ 0xD0_0D)
    }

    /// Trainable parameters: weight, bias, then batch norm's scale and shift.
    public var parameters: [Parameter] { [weight, bias] + (batchNorm.map { [$0.gamma, $0.beta] } ?? []) }

    /// Xavier-normal weights and zero bias, FuxiCTR's `reset_default_params`; batch norm starts as the identity.
    public func initialize(using generator: inout SeededGenerator) {
        weight.fillXavierNormal(fanIn: inputSize, fanOut: outputSize, using: &generator)
        bias.value.zero()
        batchNorm?.reset()
    }

    /// Computes `output` for `count` rows of `input` ([count, inputSize]).
    public func forward(input: UnsafePointer<Float>, count: Int) {
        let y = output.pointer, n = outputSize
        let z = affineOutput?.pointer ?? y
        let b = bias.value.pointer
        for row in 0..<count { (z + row * n).update(from: b, count: n) }
        BLAS.gemm(m: count, n: n, k: inputSize, a: input, lda: inputSize,
                  b: weight.value.pointer, ldb: n, beta: 1, c: z, ldc: n)
        if let batchNorm { batchNorm.forward(input: z, output: y, count: count, training: isTraining) }
        if activation == .relu {
            for i in 0..<(count * n) where y[i] < 0 { y[i] = 0 }
        }
        if let dropoutScale, isTraining {
            let keep = 1 / (1 - dropout), scale = dropoutScale.pointer
            for i in 0..<(count * n) {
                scale[i] = generator.nextUnit() < Double(dropout) ? 0 : keep
                y[i] *= scale[i]
            }
        }
    }

    /// Accumulates parameter gradients and, if asked, writes `inputGradient` (after a training `forward`).
    public func backward(
        outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int, computeInputGradient: Bool = true
    ) {
        let n = outputSize
        var dz = outputGradient
        let masked = preActivationGradient.pointer, y = output.pointer
        if let dropoutScale, isTraining {
            let scale = dropoutScale.pointer
            for i in 0..<(count * n) { masked[i] = outputGradient[i] * scale[i] }
            dz = UnsafePointer(masked)
        }
        if activation == .relu {
            // y > 0 exactly where the unit was active and kept: the gradient passes there only.
            for i in 0..<(count * n) { masked[i] = y[i] > 0 ? dz[i] : 0 }
            dz = UnsafePointer(masked)
        }
        if let batchNorm {
            batchNorm.backward(outputGradient: dz, into: masked, count: count)
            dz = UnsafePointer(masked)
        }
        let db = bias.gradient.pointer
        for row in 0..<count {
            let source = dz + row * n
            for j in 0..<n { db[j] += source[j] }
        }
        BLAS.gemm(transposeA: true, m: inputSize, n: n, k: count, a: input, lda: inputSize,
                  b: dz, ldb: n, beta: 1, c: weight.gradient.pointer, ldc: n)
        if computeInputGradient {
            BLAS.gemm(transposeB: true, m: count, n: inputSize, k: n, a: dz, lda: n,
                      b: weight.value.pointer, ldb: n, c: inputGradient.pointer, ldc: inputSize)
        }
    }

    /// The inference-time affine map with batch normalization folded in: `W'[i][j] = W[i][j]·s_j` and
    /// `b'_j = (b_j − mean_j)·s_j + β_j`, where `s_j = γ_j / √(var_j + ε)` from the running statistics.
    public func foldedAffine() -> (weight: [Float], bias: [Float]) {
        let w = weight.value.array, b = bias.value.array
        guard let batchNorm else { return (w, b) }
        var foldedWeight = w, foldedBias = b
        for j in 0..<outputSize {
            let s = batchNorm.gamma.value[j] / (batchNorm.runningVariance[j] + BatchNorm.epsilon).squareRoot()
            for i in 0..<inputSize { foldedWeight[i * outputSize + j] = w[i * outputSize + j] * s }
            foldedBias[j] = (b[j] - batchNorm.runningMean[j]) * s + batchNorm.beta.value[j]
        }
        return (foldedWeight, foldedBias)
    }
}
