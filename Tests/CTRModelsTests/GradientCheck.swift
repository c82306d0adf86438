@testable import CTRModels

/// Central finite differences against an analytic gradient, for the gradient tests.
enum GradientCheck {
    /// Largest normalised mismatch over `indices`: |numeric − analytic| / max(1, |numeric|, |analytic|)
    /// beyond an absolute floor `atol` (Float forward passes limit FD accuracy to ~1e-4).
    static func maxError(
        values: UnsafeMutablePointer<Float>, indices: some Sequence<Int>, analytic: (Int) -> Float,
        epsilon: Float = 1e-3, atol: Double = 5e-4, loss: () -> Double
    ) -> Double {
        var worst = 0.0
        for i in indices {
            let saved = values[i]
            values[i] = saved + epsilon
            let plus = loss()
            values[i] = saved - epsilon
            let minus = loss()
            values[i] = saved
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let exact = Double(analytic(i))
            let error = max(0, abs(numeric - exact) - atol) / max(1, abs(numeric), abs(exact))
            worst = max(worst, error)
        }
        return worst
    }

    /// Σ weights ⊙ output, accumulated in Double.
    static func weightedSum(_ output: UnsafePointer<Float>, _ weights: [Float]) -> Double {
        var total = 0.0
        for (i, w) in weights.enumerated() { total += Double(output[i]) * Double(w) }
        return total
    }

    /// `count` values ~ N(0, std²) from `seed`.
    static func normals(_ count: Int, std: Double = 1, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(generator.nextNormal() * std) }
    }
}
