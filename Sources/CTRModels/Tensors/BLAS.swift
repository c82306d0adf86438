import COpenBLAS

/// Row-major single-precision matrix products on OpenBLAS.
///
/// Only the shapes the layers need are exposed; everything is row-major, as the activations are.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of shape [m, k] and `op(B)` of shape [k, n].
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k == 0 only when beta == 1; make the result explicit.
            for row in 0..<m { for column in 0..<n { c[row * ldc + column] *= beta } }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets how many threads OpenBLAS may use for one product (it defaults to the core count).
    public static func setThreadCount(_ threads: Int) {
        openblas_set_num_threads(Int32(max(1, threads)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
}
