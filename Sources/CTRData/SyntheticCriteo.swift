#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTRFeatures

/// Criteo-shaped data drawn from a hidden, seeded click model whose true probabilities are known.
///
/// Categorical values are Zipf-like ranks rendered as 8-hex-character strings (a per-field bijection,
/// so distinct ranks give distinct strings); integer fields are shifted log-normal counts with
/// Criteo-like missing rates. The true logit is
/// `intercept + Σ main effect(field, value) + Σ dense effects + Σ weight·<latent(f, v_f), latent(g, v_g)>`
/// over fixed field pairs, with the intercept calibrated to a ~25% click rate. Only the 1,000 most
/// frequent values of each field carry signal (see ``signalRanks``), so ~1M rows are enough to learn
/// nearly all of it. The same seed always gives the same rows, and a longer file extends a shorter one.
public struct SyntheticCriteo: Sendable {
    /// The seed of every random choice: parameters and rows.
    public let seed: UInt64
    /// The calibrated intercept of the true logit.
    public private(set) var intercept: Double
    private let salts: [UInt32]

    /// One drawn row before formatting; reused across rows so drawing does not allocate.
    struct Draw {
        var dense = [Int64](repeating: 0, count: CriteoSchema.denseCount)
        var densePresent = [Bool](repeating: false, count: CriteoSchema.denseCount)
        var ranks = [Int](repeating: -1, count: CriteoSchema.categoricalCount)  // -1 = missing
        var probability = 0.0
        var clicked = false
    }

    /// Derives the model's parameters from `seed` and calibrates the intercept (a fraction of a second).
    public init(seed: UInt64) {
        self.seed = seed
        salts = (0..<CriteoSchema.categoricalCount).map {
            UInt32(truncatingIfNeeded: SplitMix64.mix(seed ^ (0x5A17 &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15)))
        }
        intercept = 0
        intercept = calibrateIntercept()
    }

    /// Generates `count` rows in file order, passing each with its true click probability.
    public func forEachRow(count: Int, _ body: (RawRow, Double) -> Void) {
        var rng = SplitMix64(seed: seed)
        var draw = Draw()
        for _ in 0..<count {
            next(&rng, into: &draw)
            let row = RawRow(
                label: draw.clicked ? 1 : 0,
                dense: (0..<CriteoSchema.denseCount).map { draw.densePresent[$0] ? draw.dense[$0] : nil },
                categorical: (0..<CriteoSchema.categoricalCount).map { field in
                    let rank = draw.ranks[field]
                    return rank < 0 ? nil : Self.hexString(code(field: field, rank: rank))
                })
            body(row, draw.probability)
        }
    }

    /// Writes `rows` lines of Criteo TSV to `path` and each row's true click probability to `truthPath`.
    @discardableResult
    public func write(rows: Int, to path: String, truthPath: String) throws(CTRDataError) -> SynthesisSummary {
        guard rows >= 0 else { throw CTRDataError(.invalidArgument, path: nil, detail: "rows must be >= 0, got \(rows)") }
        guard path != truthPath else {
            throw CTRDataError(.invalidArgument, path: path, detail: "the data and truth files must differ")
        }
        let data = try OutputFile(path: path)
        let truth = try OutputFile(path: truthPath)
        var rng = SplitMix64(seed: seed)
        var draw = Draw()
        var clicks = 0
        var probabilitySum = 0.0
        for _ in 0..<rows {
            next(&rng, into: &draw)
            if draw.clicked { clicks += 1 }
            probabilitySum += draw.probability
            data.append(draw.clicked ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            for field in 0..<CriteoSchema.denseCount {
                data.append(UInt8(ascii: "\t"))
                if draw.densePresent[field] { data.appendDecimal(draw.dense[field]) }
            }
            for field in 0..<CriteoSchema.categoricalCount {
                data.append(UInt8(ascii: "\t"))
                let rank = draw.ranks[field]
                if rank >= 0 { data.appendHex(code(field: field, rank: rank)) }
            }
            data.append(UInt8(ascii: "\n"))
            truth.appendProbability(draw.probability)
            truth.append(UInt8(ascii: "\n"))
            try data.flushIfFull()
            try truth.flushIfFull()
        }
        try data.close()
        try truth.close()
        return SynthesisSummary(seed: seed, rows: rows, clicks: clicks,
                                meanProbability: rows > 0 ? probabilitySum / Double(rows) : 0,
                                dataPath: path, truthPath: truthPath)
    }

    // MARK: - The hidden model

    /// Draws one row and its label; consumes the random stream in a fixed order.
    func next(_ rng: inout SplitMix64, into draw: inout Draw) {
        for (field, spec) in Self.dense.enumerated() {
            let missing = rng.nextUnit() < spec.missingRate
            let z = rng.nextGaussian()
            draw.densePresent[field] = !missing
            let count = exp(spec.mu + spec.sigma * z).rounded(.down)
            draw.dense[field] = Int64(min(count, 1e15)) - spec.shift
        }
        for (field, spec) in Self.categorical.enumerated() {
            let missing = rng.nextUnit() < spec.missingRate
            let u = rng.nextUnit()
            draw.ranks[field] = missing ? -1 : Self.zipfRank(u, cardinality: spec.cardinality, exponent: spec.exponent)
        }
        draw.probability = 1 / (1 + exp(-(intercept + logitWithoutIntercept(draw))))
        draw.clicked = rng.nextUnit() < draw.probability
    }

    /// The true logit minus the intercept.
    func logitWithoutIntercept(_ draw: Draw) -> Double {
        var logit = 0.0
        for (field, spec) in Self.dense.enumerated() {
            if draw.densePresent[field] {
                // Standardized log count: close to the z the value was drawn from.
                let t = (log(Double(max(draw.dense[field] + spec.shift, 0)) + 1) - spec.mu) / spec.sigma
                logit += spec.slope * t + spec.curvature * (t * t - 1)
            } else {
                logit += 0.3 * parameter(kind: 3, field: field, rank: -1, dimension: 0)
            }
        }
        for (field, spec) in Self.categorical.enumerated() where spec.mainEffect > 0 {
            logit += spec.mainEffect * parameter(kind: 1, field: field, rank: draw.ranks[field], dimension: 0)
        }
        for (f, g, weight) in Self.interactions {
            var dot = 0.0
            for k in 0..<Self.latentDimension {
                dot += parameter(kind: 2, field: f, rank: draw.ranks[f], dimension: k)
                    * parameter(kind: 2, field: g, rank: draw.ranks[g], dimension: k)
            }
            logit += weight * dot
        }
        return logit
    }

    /// A unit-variance uniform parameter for (kind, field, value, dimension); zero for rare values.
    @inline(__always)
    func parameter(kind: UInt64, field: Int, rank: Int, dimension: Int) -> Double {
        guard rank < Self.signalRanks else { return 0 }
        let value = rank < 0 ? UInt64(0xFF_FFFF_FFFF) : UInt64(rank)  // missing has its own parameters
        let key = kind << 56 | UInt64(field) << 48 | UInt64(dimension) << 40 | value
        let h = SplitMix64.mix(seed ^ SplitMix64.mix(key))
        return (Double(h >> 11) * 0x1p-53 * 2 - 1) * 3.0.squareRoot()
    }

    /// Inverse CDF of a continuous power law on [1, n+1), floored to a rank in 0..<n.
    static func zipfRank(_ u: Double, cardinality: Int, exponent: Double) -> Int {
        let top = Double(cardinality) + 1
        let x: Double
        if abs(exponent - 1) < 1e-9 {
            x = pow(top, u)
        } else {
            let a = 1 - exponent
            x = pow(1 + u * (pow(top, a) - 1), 1 / a)
        }
        return min(max(Int(x) - 1, 0), cardinality - 1)
    }

    /// A field's value as a 32-bit code: a per-field bijection of the rank, printed as 8 hex characters.
    @inline(__always)
    func code(field: Int, rank: Int) -> UInt32 {
        var h = UInt32(truncatingIfNeeded: rank) ^ salts[field]
        // MurmurHash3's fmix32: invertible, so distinct ranks never share a string.
        h ^= h >> 16
        h &*= 0x85EB_CA6B
        h ^= h >> 13
        h &*= 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    /// The 8 lowercase hex characters of a value code, as Criteo writes its hashed values.
    static func hexString(_ code: UInt32) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<8).map { digits[Int((code >> UInt32(28 - 4 * $0)) & 0xF)] }, as: UTF8.self)
    }

    /// Finds the intercept giving a mean true probability of ``targetCTR`` on a seeded sample.
    private func calibrateIntercept() -> Double {
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0xCA1B_2A7E))
        var draw = Draw()
        let logits = (0..<20_000).map { _ in
            next(&rng, into: &draw)
            return logitWithoutIntercept(draw)
        }
        var low = -10.0, high = 10.0
        for _ in 0..<60 {
            let mid = (low + high) / 2
            let mean = logits.reduce(0) { $0 + 1 / (1 + exp(-(mid + $1))) } / Double(logits.count)
            if mean < Self.targetCTR { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}

extension SyntheticCriteo {
    /// Where the true probabilities go when no path is given: the data path plus ".truth".
    public static func defaultTruthPath(for dataPath: String) -> String {
        dataPath + ".truth"
    }
}
