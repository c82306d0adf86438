import Foundation

/// The logistic function, stable for large |x|.
public enum Sigmoid {
    /// 1 / (1 + e^-x).
    @inline(__always)
    public static func value(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + expf(-x)) : { let e = expf(x); return e / (1 + e) }()
    }
}
