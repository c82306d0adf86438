import Foundation

/// One AutoInt interacting layer: multi-head self-attention over fields, residual, ReLU.
///
/// FuxiCTR's `MultiHeadSelfAttention`: Q, K, V = X·W_q, X·W_k, X·W_v (no bias), split into heads,
/// softmax(Q Kᵀ [/√head_dim]) V, heads concatenated, plus the residual (X·W_res when the widths
/// differ, X otherwise), then ReLU. The four projections are stored side by side in one
/// [input, 3A(+A)] matrix so one GEMM computes them all.
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
    private let scratch: FloatBuffer        // per worker [F, F]
    private static let maxWorkers = 8

    /// Creates the layer; parameters are named `\(name)_projection`.
    public init(
        name: String, fields: Int, inputDimension: Int, attentionDimension: Int, heads: Int,
        useResidual: Bool, useScale: Bool, maxBatch: Int
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
        scratch = FloatBuffer(count: Self.maxWorkers * fields * fields)
    }

    /// Xavier-normal initialisation of each projection block (each is its own `nn.Linear` in FuxiCTR).
    public func initialize(using generator: inout SeededGenerator) {
        let std = (2.0 / Double(inputDimension + attentionDimension)).squareRoot()
        projection.fillNormal(std: std, using: &generator)
    }

    private var scoreScale: Float { useScale ? 1 / Float(headDimension).squareRoot() : 1 }

    /// Computes `output` from `input` ([count, fields, inputDimension]).
    public func forward(input: UnsafePointer<Float>, count: Int) {
        let rows = count * fields, width = projectionWidth, a = attentionDimension
        BLAS.gemm(m: rows, n: width, k: inputDimension, a: input, lda: inputDimension,
                  b: projection.value.pointer, ldb: width, c: projected.pointer, ldc: width)
        let p = projected.pointer, att = attention.pointer, o = headOutput.pointer
        let f = fields, hd = headDimension, h = heads, scale = scoreScale
        ParallelLoop.run(count: count, threads: min(threads, Self.maxWorkers)) { range, _ in
            for b in range {
                let base = p + b * f * width
                for head in 0..<h {
                    let scores = att + (b * h + head) * f * f
                    BLAS.gemm(transposeB: true, m: f, n: f, k: hd, alpha: scale,
                              a: base + head * hd, lda: width, b: base + a + head * hd, ldb: width,
                              c: scores, ldc: f)
                    Self.softmaxRows(scores, rows: f, columns: f)
                    BLAS.gemm(m: f, n: hd, k: f, a: scores, lda: f, b: base + 2 * a + head * hd, ldb: width,
                              c: o + b * f * a + head * hd, ldc: a)
                }
            }
        }
        let y = output.pointer
        for r in 0..<rows {
            let target = y + r * a, source = o + r * a
            if hasResidualProjection {
                let residual = p + r * width + 3 * a
                for k in 0..<a { target[k] = max(0, source[k] + residual[k]) }
            } else if useResidual {
                let residual = input + r * inputDimension
                for k in 0..<a { target[k] = max(0, source[k] + residual[k]) }
            } else {
                for k in 0..<a { target[k] = max(0, source[k]) }
            }
        }
    }

    /// Accumulates the projection gradient and writes `inputGradient`.
    public func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, count: Int) {
        let rows = count * fields, width = projectionWidth, a = attentionDimension
        let dz = preActivationGradient.pointer, y = output.pointer
        for i in 0..<(rows * a) { dz[i] = y[i] > 0 ? outputGradient[i] : 0 }
        let p = projected.pointer, dp = projectedGradient.pointer, att = attention.pointer
        let f = fields, hd = headDimension, h = heads, scale = scoreScale
        let scratchBase = scratch.pointer
        ParallelLoop.run(count: count, threads: min(threads, Self.maxWorkers)) { range, worker in
            let dScores = scratchBase + worker * f * f
            for b in range {
                let base = p + b * f * width, dBase = dp + b * f * width, dOut = dz + b * f * a
                for head in 0..<h {
                    let scores = att + (b * h + head) * f * f
                    let q = base + head * hd, k = base + a + head * hd, v = base + 2 * a + head * hd
                    // dA = dO · Vᵀ
                    BLAS.gemm(transposeB: true, m: f, n: f, k: hd, a: dOut + head * hd, lda: a,
                              b: v, ldb: width, c: dScores, ldc: f)
                    // dV = Aᵀ · dO
                    BLAS.gemm(transposeA: true, m: f, n: hd, k: f, a: scores, lda: f,
                              b: dOut + head * hd, ldb: a, c: dBase + 2 * a + head * hd, ldc: width)
                    // Softmax backward: dS = A ⊙ (dA − rowsum(dA ⊙ A)), times the score scale.
                    for i in 0..<f {
                        let aRow = scores + i * f, gRow = dScores + i * f
                        var dot: Float = 0
                        for j in 0..<f { dot += aRow[j] * gRow[j] }
                        for j in 0..<f { gRow[j] = aRow[j] * (gRow[j] - dot) * scale }
                    }
                    // dQ = dS · K, dK = dSᵀ · Q
                    BLAS.gemm(m: f, n: hd, k: f, a: dScores, lda: f, b: k, ldb: width,
                              c: dBase + head * hd, ldc: width)
                    BLAS.gemm(transposeA: true, m: f, n: hd, k: f, a: dScores, lda: f, b: q, ldb: width,
                              c: dBase + a + head * hd, ldc: width)
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

    /// Numerically stable softmax of each row, in place.
    @inline(__always)
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = x + r * columns
            var maximum = row[0]
            for j in 1..<columns where row[j] > maximum { maximum = row[j] }
            var sum: Float = 0
            for j in 0..<columns {
                let e = expf(row[j] - maximum)
                row[j] = e
                sum += e
            }
            let inverse = 1 / sum
            for j in 0..<columns { row[j] *= inverse }
        }
    }
}
