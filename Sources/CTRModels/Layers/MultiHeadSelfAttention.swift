import CTRKernels
import Foundation

/// One AutoInt interacting layer: multi-head self-attention over fields, residual, layer norm (optional), ReLU.
///
/// FuxiCTR's `MultiHeadSelfAttention`: Q, K, V = X·W_q, X·W_k, X·W_v (no bias), split into heads,
/// softmax(Q Kᵀ [/√head_dim]) V, heads concatenated, plus the residual (X·W_res when the widths
/// differ, X otherwise), then `nn.LayerNorm(attention_dim)` when `layer_norm` is set, then ReLU. The four projections are stored side by side in one
/// [input, 3A(+A)] matrix so one GEMM over the whole batch ([B·F, input] × [input, 3A(+A)]) computes
/// them all, and the input gradient and projection gradient are one GEMM each. The per-row, per-head
/// products (F×F×head_dim, too small for OpenBLAS's per-call overhead) run in `CTRKernels`' vectorized
/// loops (AVX2+FMA when the CPU has it).
public final class MultiHeadSelfAttention {
    /// Fields (sequence length).
    public let fields: Int
    /// Input width per field.
    public let inputDimension: Int
    /// Output width per field (all heads).
    public let attentionDimension: Int
    /// Number of heads.
    public let heads: Int
    /// Whether the residual connection is used.
    public let useResidual: Bool
    /// Whether scores are divided by √headDimension.
    public let useScale: Bool
    /// [W_q | W_k | W_v (| W_res)], shape [inputDimension, projectionWidth].
    public let projection: Parameter
    /// Layer normalization's scale and shift over each field's attention vector (FuxiCTR `layer_norm`), if any.
    public let layerNorm: (gamma: Parameter, beta: Parameter)?
    /// PyTorch's `nn.LayerNorm` epsilon.
    public static let layerNormEpsilon: Float = 1e-5
    /// Forward result, [maxBatch, fields, attentionDimension].
    public let output: FloatBuffer
    /// Gradient with respect to the input, [maxBatch, fields, inputDimension].
    public let inputGradient: FloatBuffer
    /// Worker threads for the per-row attention products.
    public var threads: Int = 1

    /// Width of one head.
    public var headDimension: Int { attentionDimension / heads }
    /// Whether the residual goes through W_res (input and attention widths differ).
    public var hasResidualProjection: Bool { useResidual && inputDimension != attentionDimension }
    /// Columns of `projection`.
    public var projectionWidth: Int { attentionDimension * (hasResidualProjection ? 4 : 3) }

    private let projected: FloatBuffer      // [B*F, projectionWidth]
    private let attention: FloatBuffer      // [B, H, F, F]
    private let headOutput: FloatBuffer     // [B*F, A] before residual
    private let projectedGradient: FloatBuffer
    private let preActivationGradient: FloatBuffer
    private let scratch: FloatBuffer        // per worker [F + head_dim + 1, F rounded up to 8]
    private let normalized: FloatBuffer?    // [B*F, A] x̂ of the layer norm
    private let inverseStd: FloatBuffer?    // [B*F]
    private static let maxWorkers = 8

    /// Creates the layer; parameters are named `\(name)_projection`.
    public init(
        name: String, fields: Int, inputDimension: Int, attentionDimension: Int, heads: Int,
        useResidual: Bool, useScale: Bool, maxBatch: Int, layerNorm: Bool = false
    ) {
        precondition(attentionDimension % heads == 0, "attention dimension must divide into heads")
        self.fields = fields
        self.inputDimension = inputDimension
        self.attentionDimension = attentionDimension
        self.heads = heads
        self.useResidual = useResidual
        self.useScale = useScale
        let width = attentionDimension * (useResidual && inputDimension != attentionDimension ? 4 : 3)
        projection = Parameter(name: "\(name)_projection", shape: [inputDimension, width])
        let rows = maxBatch * fields
        output = FloatBuffer(count: rows * attentionDimension)
        inputGradient = FloatBuffer(count: rows * inputDimension)
        projected = FloatBuffer(count: rows * width)
        attention = FloatBuffer(count: maxBatch * heads * fields * fields)
        headOutput = FloatBuffer(count: rows * attentionDimension)
        projectedGradient = FloatBuffer(count: rows * width)
        preActivationGradient = FloatBuffer(count: rows * attentionDimension)
        scratch = FloatBuffer(count: Self.maxWorkers * Self.scratchPerWorker(fields: fields, headDimension: attentionDimension / heads))
        if layerNorm {
            let gamma = Parameter(name: "\(name)_ln_gamma", shape: [attentionDimension])
            let beta = Parameter(name: "\(name)_ln_beta", shape: [attentionDimension])
            for k in 0..<attentionDimension { gamma.value[k] = 1 }
            self.layerNorm = (gamma, beta)
            normalized = FloatBuffer(count: rows * attentionDimension)
            inverseStd = FloatBuffer(count: rows)
        } else {
            self.layerNorm = nil
            normalized = nil
            inverseStd = nil
        }
    }

    /// Trainable parameters: the projections, then the layer norm's scale and shift.
    public var parameters: [Parameter] { [projection] + (layerNorm.map { [$0.gamma, $0.beta] } ?? []) }

    /// Xavier-normal initialisation of each projection block (each is its own `nn.Linear` in FuxiCTR).
    public func initialize(using generator: inout SeededGenerator) {
        let std = (2.0 / Double(inputDimension + attentionDimension)).squareRoot()
        projection.fillNormal(std: std, using: &generator)
    }

    /// Scratch floats one worker's kernels need (see CTRKernels.h).
    private var scratchPerWorker: Int { Self.scratchPerWorker(fields: fields, headDimension: headDimension) }

    private static func scratchPerWorker(fields: Int, headDimension: Int) -> Int {
        (fields + headDimension + 1) * ((fields + 7) / 8 * 8)
    }

    private var scoreScale: Float { useScale ? 1 / Float(headDimension).squareRoot() : 1 }

    /// Computes `output` from `input` ([count, fields, inputDimension]).
    public func forward(input: UnsafePointer<Float>, count: Int) {
        let rows = count * fields, width = projectionWidth, a = attentionDimension
        BLAS.gemm(m: rows, n: width, k: inputDimension, a: input, lda: inputDimension,
                  b: projection.value.pointer, ldb: width, c: projected.pointer, ldc: width)
        let p = projected.pointer, att = attention.pointer, o = headOutput.pointer
        let f = fields, hd = headDimension, h = heads, scale = scoreScale
        let scratchBase = scratch.pointer, perWorker = scratchPerWorker
        ParallelLoop.run(count: count, threads: min(threads, Self.maxWorkers)) { range, worker in
            let work = scratchBase + worker * perWorker
            for b in range {
                let base = p + b * f * width
                for head in 0..<h {
                    ctr_attention_head_forward(
                        base + head * hd, base + a + head * hd, base + 2 * a + head * hd, width, f, hd, scale,
                        att + (b * h + head) * f * f, o + b * f * a + head * hd, a, work)
                }
            }
        }
        let y = output.pointer
        for r in 0..<rows {
            let target = y + r * a, source = o + r * a
            // The residual sum first (into the output), then layer norm and ReLU in place.
            if hasResidualProjection {
                let residual = p + r * width + 3 * a
                for k in 0..<a { target[k] = source[k] + residual[k] }
            } else if useResidual {
                let residual = input + r * inputDimension
                for k in 0..<a { target[k] = source[k] + residual[k] }
            } else {
                target.update(from: source, count: a)
            }
            if let layerNorm, let normalized, let inverseStd {
                var mean: Float = 0
                for k in 0..<a { mean += target[k] }
                mean /= Float(a)
                var variance: Float = 0
                for k in 0..<a { variance += (target[k] - mean) * (target[k] - mean) }
                let inverse = 1 / (variance / Float(a) + Self.layerNormEpsilon).squareRoot()
                inverseStd[r] = inverse
                let xhat = normalized.pointer + r * a, g = layerNorm.gamma.value.pointer, b = layerNorm.beta.value.pointer
                for k in 0..<a {
                    xhat[k] = (target[k] - mean) * inverse
                    target[k] = g[k] * xhat[k] + b[k]
                }
            }
            for k in 0..<a { target[k] = max(0, target[k]) }
        }
    }

    /// Accumulates the projection gradient and writes `inputGradient`.
    public func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int) {
        let rows = count * fields, width = projectionWidth, a = attentionDimension
        let dz = preActivationGradient.pointer, y = output.pointer
        for i in 0..<(rows * a) { dz[i] = y[i] > 0 ? outputGradient[i] : 0 }
        if let layerNorm, let normalized, let inverseStd {
            // Through the layer norm, row by row: dx = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = dz ⊙ γ.
            let g = layerNorm.gamma.value.pointer, dGamma = layerNorm.gamma.gradient.pointer, dBeta = layerNorm.beta.gradient.pointer
            for r in 0..<rows {
                let d = dz + r * a, xhat = normalized.pointer + r * a
                var meanG: Float = 0, meanGX: Float = 0
                for k in 0..<a {
                    dGamma[k] += d[k] * xhat[k]
                    dBeta[k] += d[k]
                    let gk = d[k] * g[k]
                    meanG += gk
                    meanGX += gk * xhat[k]
                }
                meanG /= Float(a)
                meanGX /= Float(a)
                let inverse = inverseStd[r]
                for k in 0..<a { d[k] = inverse * (d[k] * g[k] - meanG - xhat[k] * meanGX) }
            }
        }
        let p = projected.pointer, dp = projectedGradient.pointer, att = attention.pointer
        let f = fields, hd = headDimension, h = heads, scale = scoreScale
        let scratchBase = scratch.pointer, perWorker = scratchPerWorker
        ParallelLoop.run(count: count, threads: min(threads, Self.maxWorkers)) { range, worker in
            let work = scratchBase + worker * perWorker
            for b in range {
                let base = p + b * f * width, dBase = dp + b * f * width, dOut = dz + b * f * a
                for head in 0..<h {
                    ctr_attention_head_backward(
                        base + head * hd, base + a + head * hd, base + 2 * a + head * hd, width, f, hd, scale,
                        att + (b * h + head) * f * f, dOut + head * hd, a,
                        dBase + head * hd, dBase + a + head * hd, dBase + 2 * a + head * hd, work)
                }
                if self.hasResidualProjection {
                    for r in 0..<f { (dBase + r * width + 3 * a).update(from: dOut + r * a, count: a) }
                }
            }
        }
        BLAS.gemm(transposeA: true, m: inputDimension, n: width, k: rows, a: input, lda: inputDimension,
                  b: dp, ldb: width, beta: 1, c: projection.gradient.pointer, ldc: width)
        BLAS.gemm(transposeB: true, m: rows, n: inputDimension, k: width, a: dp, lda: width,
                  b: projection.value.pointer, ldb: width, c: inputGradient.pointer, ldc: inputDimension)
        if useResidual && !hasResidualProjection {
            let dx = inputGradient.pointer
            for i in 0..<(rows * a) { dx[i] += dz[i] }
        }
    }
}
