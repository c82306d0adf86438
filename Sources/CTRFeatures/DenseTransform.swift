#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The integer-field transform of the Criteo competition winners, as FuxiCTR applies it.
///
/// `missing -> 0`; `v > 2 -> floor(ln(v)^2)`; otherwise `max(v, -1)`. The encoder then divides by the
/// field's scale (the largest transformed value seen in training, at least 1) so inputs lie in about [-1, 1].
public enum DenseTransform {
    /// The human-readable statement of the transform, written into features.json.
    public static let summary =
        "missing -> 0; v > 2 -> floor(ln(v)^2); otherwise max(v, -1); the result is divided by the field's scale"

    /// Applies the unscaled transform to a present value.
    @inlinable
    public static func apply(_ v: Double) -> Double {
        if v > 2 {
            let l = log(v)
            return (l * l).rounded(.down)
        }
        // NaN compares false above and here, so it maps to -1 rather than poisoning a batch.
        return v >= -1 ? v : -1
    }
}
