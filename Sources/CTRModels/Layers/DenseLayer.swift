/// A fully connected layer `y = act(x W + b)` on BLAS, with W stored [input, output].
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
    /// Forward result, [maxBatch, outputSize].
    public let output: FloatBuffer
    /// Gradient with respect to the input, [maxBatch, inputSize].
    public let inputGradient: FloatBuffer
    private let preActivationGradient: FloatBuffer

    /// Creates the layer for batches of at most `maxBatch` rows; parameters are named `\(name)_weight`/`_bias`.
    public init(name: String, inputSize: Int, outputSize: Int, activation: Activation, maxBatch: Int) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weight = Parameter(name: "\(name)_weight", shape: [inputSize, outputSize])
        bias = Parameter(name: "\(name)_bias", shape: [outputSize])
        output = FloatBuffer(count: maxBatch * outputSize)
        inputGradient = FloatBuffer(count: maxBatch * inputSize)
        preActivationGradient = FloatBuffer(count: maxBatch * outputSize)
    }

    /// Xavier-normal weights and zero bias, FuxiCTR's `reset_default_params`.
    public func initialize(using generator: inout SeededGenerator) {
        weight.fillXavierNormal(fanIn: inputSize, fanOut: outputSize, using: &generator)
        bias.value.zero()
    }

    /// Computes `output` for `count` rows of `input` ([count, inputSize]).
    public func forward(input: UnsafePointer<Float>, count: Int) {
        let y = output.pointer, n = outputSize
        let b = bias.value.pointer
        for row in 0..<count { (y + row * n).update(from: b, count: n) }
        BLAS.gemm(m: count, n: n, k: inputSize, a: input, lda: inputSize,
                  b: weight.value.pointer, ldb: n, beta: 1, c: y, ldc: n)
        if activation == .relu {
            for i in 0..<(count * n) where y[i] < 0 { y[i] = 0 }
        }
    }

    /// Accumulates parameter gradients and, if asked, writes `inputGradient`.
    public func backward(
        outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int, computeInputGradient: Bool = true
    ) {
        let n = outputSize
        var dz = outputGradient
        if activation == .relu {
            let masked = preActivationGradient.pointer, y = output.pointer
            for i in 0..<(count * n) { masked[i] = y[i] > 0 ? outputGradient[i] : 0 }
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
}
