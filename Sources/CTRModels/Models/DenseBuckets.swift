/// How integer fields become embedding ids: one id per transformed integer value, per field.
///
/// FuxiCTR's Criteo_x4 recipe treats the transformed integers (`floor(ln(v)^2)`) as categorical values.
/// A `value × vector` embedding cannot express the curved, non-monotone effect of a count, and a missing
/// value (the map's `denseMissingValue`) would sit on the same line as the present ones; a bucket per
/// value gives each its own vector. The model input stays the scaled `dense [B,13]` tensor: the bucket is
/// recovered as `round(x · scale)`, which the ONNX graph computes the same way, so serving is unchanged.
public struct DenseBuckets: Codable, Sendable, Equatable {
    /// Per field: the feature map's scale (the largest transformed value seen in training, >= 1).
    public let scales: [Float]
    /// Per field: the largest bucket value; larger inputs share its bucket.
    public let maxValues: [Float]
    /// Per field: the first row of its buckets in the bucket table.
    public let offsets: [Int]
    /// Rows of the bucket table, all fields together.
    public let rows: Int

    /// Lowest bucket value: every input that rounds to -2 or below is "missing".
    public static let missingValue: Float = -2

    /// Buckets for a feature map's dense scales: missing, -1, 0, 1, …, ceil(scale) per field.
    public init(scales: [Double]) {
        self.scales = scales.map { Float($0) }
        maxValues = scales.map { Float($0.rounded(.up)) }
        var offsets: [Int] = [], next = 0
        for maxValue in maxValues {
            offsets.append(next)
            next += Int(maxValue) + 3
        }
        self.offsets = offsets
        rows = next
    }

    init(scales: [Float], maxValues: [Float], offsets: [Int], rows: Int) {
        self.scales = scales
        self.maxValues = maxValues
        self.offsets = offsets
        self.rows = rows
    }

    /// The bucket-table row of dense input `x` in field `field`.
    ///
    /// Rounds half to even and clamps like the exported graph (`Round`, `Max`, `Min`); NaN counts as missing.
    @inline(__always)
    public func row(field: Int, value x: Float) -> Int {
        var v = (x * scales[field]).rounded(.toNearestOrEven)
        if !(v >= Self.missingValue) { v = Self.missingValue }
        if v > maxValues[field] { v = maxValues[field] }
        return offsets[field] + Int(v) + 2
    }
}
