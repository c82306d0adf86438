#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The integer-field transform of the Criteo competition winners, as FuxiCTR applies it.
///
/// `v > 2 -> floor(ln(v)^2)`; otherwise `max(v, -1)`. The encoder then divides by the field's scale (the
/// largest transformed value seen in training, at least 1) so inputs lie in [-1, 1]; a missing value becomes
/// the map's `denseMissingValue` (-2 for new maps, 0 for maps written before it existed).
public enum DenseTransform {
    /// The human-readable statement of the transform, written into features.json.
    public static let summary =
        "v > 2 -> floor(ln(v)^2); otherwise max(v, -1); the result is divided by the field's scale; missing -> denseMissingValue"

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
