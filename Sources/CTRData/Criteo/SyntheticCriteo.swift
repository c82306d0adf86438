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
/// over fixed field pairs, with the intercept calibrated to a ~25% click rate. Only values frequent
/// enough to be learned carry signal: a main effect only on values drawn at least once per
/// ``minSignalFrequency`` rows, an interaction only among values drawn at least once per
/// ``minInteractionFrequency`` rows (and never beyond the first ``signalRanks`` ranks), so ~1M rows hold
/// enough evidence for every parameter (docs/TRAINING.md). The same seed always gives the same rows, and a
/// longer file extends a shorter one.
public struct SyntheticCriteo: Sendable {
    /// The seed of every random choice: parameters and rows.
    public let seed: UInt64
    /// The calibrated intercept of the true logit.
    public private(set) var intercept: Double
    private let salts: [UInt32]
    /// Per field, the main effect of each signal rank and, in the last slot, of "missing".
    private let effects: [Double]
    /// Per field and slot (as in `effects`), the latent factor vector of length ``latentDimension``.
    private let latents: [Double]
    /// Per dense field, the effect of a missing value.
    private let denseMissingEffects: [Double]
    /// Per categorical field, how many leading ranks carry a main effect (the rest share the zero "rare" effect).
    let signalRankLimits: [Int]
    /// Per categorical field, how many leading ranks take part in interactions (the rest interact with nothing).
    let interactionRankLimits: [Int]

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
        signalRankLimits = Self.categorical.map { Self.rankLimit($0, minFrequency: Self.minSignalFrequency) }
        interactionRankLimits = Self.categorical.map { Self.rankLimit($0, minFrequency: Self.minInteractionFrequency) }
        salts = (0..<CriteoSchema.categoricalCount).map {
            UInt32(truncatingIfNeeded: SplitMix64.mix(seed ^ (0x5A17 &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15)))
        }
        let slots = Self.signalRanks + 1
        var effects = [Double](repeating: 0, count: CriteoSchema.categoricalCount * slots)
        var latents = [Double](repeating: 0, count: CriteoSchema.categoricalCount * slots * Self.latentDimension)
        for field in 0..<CriteoSchema.categoricalCount {
            for slot in 0..<slots {
                let rank = slot == Self.signalRanks ? -1 : slot
                effects[field * slots + slot] = Self.categorical[field].mainEffect
                    * Self.parameter(seed: seed, kind: 1, field: field, rank: rank, dimension: 0)
                for k in 0..<Self.latentDimension {
                    latents[(field * slots + slot) * Self.latentDimension + k] =
                        Self.parameter(seed: seed, kind: 2, field: field, rank: rank, dimension: k)
                }
            }
        }
        self.effects = effects
        self.latents = latents
        denseMissingEffects = (0..<CriteoSchema.denseCount).map {
            0.3 * Self.parameter(seed: seed, kind: 3, field: $0, rank: -1, dimension: 0)
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
                dense: (0..<CriteoSchema.denseCount).map { draw.densePresent[$0] ? Double(draw.dense[$0]) : nil },
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
        var data = try OutputFile(path: path)
        var truth = try OutputFile(path: truthPath)
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
        for field in 0..<CriteoSchema.denseCount {
            let spec = Self.dense[field]
            let missing = rng.nextUnit() < spec.missingRate
            let z = rng.nextGaussian()
            draw.densePresent[field] = !missing
            let count = exp(spec.mu + spec.sigma * z).rounded(.down)
            draw.dense[field] = Int64(min(count, 1e15)) - spec.shift
        }
        for field in 0..<CriteoSchema.categoricalCount {
            let spec = Self.categorical[field]
            let missing = rng.nextUnit() < spec.missingRate
            let u = rng.nextUnit()
            draw.ranks[field] = missing ? -1 : Self.zipfRank(u, cardinality: spec.cardinality, exponent: spec.exponent)
        }
        draw.probability = 1 / (1 + exp(-(intercept + logitWithoutIntercept(draw))))
        draw.clicked = rng.nextUnit() < draw.probability
    }

    /// The true logit minus the intercept.
    func logitWithoutIntercept(_ draw: Draw) -> Double {
        let parts = logitParts(draw)
        return parts.dense + parts.denseMissing + parts.main + parts.interactions
    }

    /// The terms of the true logit (minus the intercept), kept apart to measure how much each contributes.
    struct LogitParts {
        /// Σ slope·t + curvature·(t² − 1) over present integer fields.
        var dense = 0.0
        /// Σ of the per-field effects of missing integer values.
        var denseMissing = 0.0
        /// Σ of the categorical main effects.
        var main = 0.0
        /// Σ of the pairwise latent-factor interactions.
        var interactions = 0.0
    }

    /// The true logit's terms for one drawn row.
    func logitParts(_ draw: Draw) -> LogitParts {
        var parts = LogitParts()
        for field in 0..<CriteoSchema.denseCount {
            if draw.densePresent[field] {
                let spec = Self.dense[field]
                // Standardized log count: close to the z the value was drawn from.
                let t = (log(Double(max(draw.dense[field] + spec.shift, 0)) + 1) - spec.mu) / spec.sigma
                parts.dense += spec.slope * t + spec.curvature * (t * t - 1)
            } else {
                parts.denseMissing += denseMissingEffects[field]
            }
        }
        let slots = Self.signalRanks + 1
        for field in 0..<CriteoSchema.categoricalCount {
            if let slot = slot(field: field, rank: draw.ranks[field]) { parts.main += effects[field * slots + slot] }
        }
        for pair in Self.interactions {
            guard let a = interactionSlot(field: pair.first, rank: draw.ranks[pair.first]),
                  let b = interactionSlot(field: pair.second, rank: draw.ranks[pair.second]) else { continue }
            let u = (pair.first * slots + a) * Self.latentDimension
            let v = (pair.second * slots + b) * Self.latentDimension
            var dot = 0.0
            for k in 0..<Self.latentDimension { dot += latents[u + k] * latents[v + k] }
            parts.interactions += pair.weight * dot
        }
        return parts
    }

    /// Where a value's parameters live: its rank for signal ranks, the last slot for missing, nil for rare values.
    @inline(__always)
    private func slot(field: Int, rank: Int) -> Int? {
        rank < 0 ? Self.signalRanks : (rank < signalRankLimits[field] ? rank : nil)
    }

    /// Where a value's latent factor lives: as ``slot(field:rank:)``, but nil beyond the field's interaction ranks.
    @inline(__always)
    private func interactionSlot(field: Int, rank: Int) -> Int? {
        rank < 0 ? Self.signalRanks : (rank < interactionRankLimits[field] ? rank : nil)
    }

    /// The number of leading ranks of a field drawn with probability at least `minFrequency` (at most
    /// ``signalRanks``); Zipf masses fall with the rank, so these are exactly the frequent values.
    static func rankLimit(_ spec: CategoricalSpec, minFrequency: Double) -> Int {
        var limit = 0
        while limit < min(signalRanks, spec.cardinality)
            && rankProbability(limit, cardinality: spec.cardinality, exponent: spec.exponent) >= minFrequency {
            limit += 1
        }
        return limit
    }

    /// The probability that ``zipfRank(_:cardinality:exponent:)`` draws `rank` (the power law's mass on [rank+1, rank+2)).
    static func rankProbability(_ rank: Int, cardinality: Int, exponent: Double) -> Double {
        let top = Double(cardinality) + 1
        func cdf(_ x: Double) -> Double {
            if abs(exponent - 1) < 1e-9 { return log(x) / log(top) }
            let a = 1 - exponent
            return (pow(x, a) - 1) / (pow(top, a) - 1)
        }
        return cdf(min(Double(rank) + 2, top)) - cdf(Double(rank) + 1)
    }

    /// A unit-variance uniform parameter for (kind, field, value, dimension), a pure function of the seed.
    private static func parameter(seed: UInt64, kind: UInt64, field: Int, rank: Int, dimension: Int) -> Double {
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

    /// Finds the intercept giving a mean true probability of ``targetCTR`` on a seeded sample (Newton's method).
    private func calibrateIntercept() -> Double {
        var rng = SplitMix64(seed: SplitMix64.mix(seed ^ 0xCA1B_2A7E))
        var draw = Draw()
        let logits = (0..<10_000).map { _ in
            next(&rng, into: &draw)
            return logitWithoutIntercept(draw)
        }
        var b = log(Self.targetCTR / (1 - Self.targetCTR))
        for _ in 0..<20 {
            var mean = 0.0, slope = 0.0
            for l in logits {
                let p = 1 / (1 + exp(-(b + l)))
                mean += p
                slope += p * (1 - p)
            }
            let step = (mean - Self.targetCTR * Double(logits.count)) / slope
            b -= step
            if abs(step) < 1e-9 { break }
        }
        return b
    }
}

extension SyntheticCriteo {
    /// Where the true probabilities go when no path is given: the data path plus ".truth".
    public static func defaultTruthPath(for dataPath: String) -> String {
        dataPath + ".truth"
    }
}
