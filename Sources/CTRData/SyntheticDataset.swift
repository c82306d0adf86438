#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CTRFeatures

/// Rows for any declared schema, drawn from a hidden, seeded click model whose true probabilities are known.
///
/// Every categorical field draws Zipf-like ranks (rank `r` has probability about `1/((r+1) ln K)`) from a
/// vocabulary of `K` values (20 to 5,000, fixed per field by the seed); a value's text is a per-field
/// bijection of its rank (decimal for `dtype: int`, 8 hex characters otherwise). Numeric fields are
/// log-normal amounts (`dtype: int` rounds them). A sequence draws 0 to 1.5 × `max_len` tokens from its
/// own vocabulary, or from the categorical field it shares embeddings with, so rows have empty, short and
/// too-long sequences. Every field is missing in 5% of rows.
///
/// The true logit is `intercept + Σ main effect(field, value) + Σ smooth numeric effects + scale · Σ over
/// every pair of fields <latent(f), latent(g)>` (a factorization machine: what LR cannot learn and DeepFM's
/// FM part can), where a sequence contributes the mean main effect and the mean latent of the tokens a
/// model sees. Only the tokens kept after truncation to `max_len` (on the field's padding side) count, so
/// the oracle is reachable. As in ``SyntheticCriteo``, only values frequent enough to be learned from ~1M rows carry
/// signal (main effects: drawn once per 500 rows; interactions: once per 100). The intercept is
/// calibrated to a ~20% click rate. The same seed gives the same rows.
///
/// With a ``Drift`` the world of the same seed has moved on (a later day): some item-side values are new and some
/// tastes have changed, and the rows are a fresh draw (see ``Drift``).
public struct SyntheticDataset: Sendable {
    /// How a later day differs from the click model of `seed`: what a model trained on the earlier day has not seen.
    ///
    /// A `fraction` of each item-side categorical field's values (`source: item`, and the sequences sharing their
    /// vocabulary) are replaced by values never written before (new ads), each with fresh main effect and latent
    /// factors drawn like the ones it replaces, so the new ads are as popular and as predictive as the old; and the
    /// main effect and latent factors of a `fraction` of every categorical field's other values are redrawn (tastes
    /// change). Numeric effects stay. The intercept is recalibrated to the same click rate. The rows are drawn from
    /// a stream keyed by `seed` and the drift's `seed`, so they are not the undrifted day's rows again.
    public struct Drift: Sendable, Equatable {
        /// The share of item-side values replaced and of weights redrawn, in [0, 1].
        public var fraction: Double
        /// Which values are replaced and which weights move: one seed per day.
        public var seed: UInt64

        /// A drift of `fraction` keyed by `seed`.
        public init(fraction: Double, seed: UInt64 = 1) {
            self.fraction = fraction
            self.seed = seed
        }
    }

    /// The dataset whose columns are written.
    public let config: DatasetConfig
    /// The seed of every random choice.
    public let seed: UInt64
    /// How this day's world differs from the seed's, or nil for the seed's own.
    public let drift: Drift?
    /// The calibrated intercept of the true logit.
    public private(set) var intercept = 0.0
    private let categorical: [FieldModel]
    private let numeric: [NumericModel]
    private let sequences: [SequenceModel]
    /// Keeps the interaction term's spread near 1 whatever the number of fields.
    private let pairScale: Double

    static let latentDimension = 4
    static let missingRate = 0.05

    struct FieldModel: Sendable {
        var cardinality: Int
        var salt: UInt64
        var integerText: Bool
        var mainScale: Double
        /// Whether ``Drift`` replaces some of its values (an item-side field).
        var renames = false
    }

    struct NumericModel: Sendable {
        var integer: Bool
        var mu: Double
        var sigma: Double
        var weight: Double
        var curve: Double
        var missingEffect: Double
    }

    struct SequenceModel: Sendable {
        /// The categorical field whose vocabulary the tokens come from, or nil for the sequence's own.
        var shared: Int?
        var own: FieldModel
        var maxLength: Int
        var keepsLast: Bool
        var splitter: [UInt8]
    }

    /// Derives the click model from `seed` for `config`'s schema, moved by `drift` when given, and calibrates the intercept.
    public init(config: DatasetConfig, seed: UInt64, drift: Drift? = nil) {
        self.config = config
        self.seed = seed
        self.drift = drift
        let schema = config.schema
        let sizes = [20, 50, 200, 1000, 5000]
        func model(_ index: Int, integer: Bool) -> FieldModel {
            let h = SplitMix64.mix(seed ^ (0xCA7 &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            return FieldModel(cardinality: sizes[Int(h % UInt64(sizes.count))], salt: SplitMix64.mix(h), integerText: integer,
                              mainScale: 0.35 + 0.3 * Double((h >> 8) & 0xFF) / 255)
        }
        categorical = schema.categoricalFields.enumerated().map { index, field in
            var fieldModel = model(index, integer: field.valueType == .int)
            fieldModel.renames = field.source == "item"
            return fieldModel
        }
        numeric = schema.numericFields.enumerated().map { index, field in
            let h = SplitMix64.mix(seed ^ (0xD1 &+ UInt64(index) &* 0x2545_F491_4F6C_DD1D))
            return NumericModel(integer: field.valueType == .int || field.preprocess == .convertToBucket,
                                mu: 2 + Double(h & 0xFF) / 128, sigma: 0.8 + Double((h >> 8) & 0xFF) / 512,
                                weight: 0.5 + Double((h >> 16) & 0xFF) / 512, curve: Double((h >> 24) & 0xFF) / 255 - 0.5,
                                missingEffect: Double((h >> 32) & 0xFF) / 255 - 0.5)
        }
        let names = schema.categoricalFields.map(\.name)
        sequences = schema.sequenceFields.enumerated().map { index, field in
            let settings = field.sequence ?? FeatureSchema.Sequence()
            let shared = settings.sharedWith.flatMap { names.firstIndex(of: $0) }
            return SequenceModel(
                shared: shared, own: model(1000 + index, integer: field.valueType == .int),
                maxLength: settings.maxLength > 0 ? settings.maxLength : 8, keepsLast: settings.padding == .pre,
                splitter: Array(settings.splitter.utf8))
        }
        let interacting = Double(categorical.count + sequences.count)
        pairScale = interacting > 1 ? 1.6 / (interacting * (interacting - 1) / 2).squareRoot() : 0
        intercept = calibrate(target: 0.2)
    }

    // MARK: - Parameters, computed from coordinates so nothing large is stored

    private func unitGaussian(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> Double {
        var generator = SplitMix64(seed: SplitMix64.mix(seed ^ SplitMix64.mix(a &* 0x9E37_79B9 ^ SplitMix64.mix(b &+ c &* 0x85EB_CA6B))))
        return generator.nextGaussian()
    }

    /// The highest rank drawn at least once per `rows` rows from a vocabulary of `cardinality` values.
    static func rankLimit(cardinality: Int, rows: Double) -> Int {
        min(cardinality, Int(rows / log(Double(cardinality) + 1)))
    }

    /// The main effect of rank `rank` (-1 = missing) of vocabulary `vocab`. Only ranks drawn at least once
    /// per 500 rows carry one, so ~1M rows hold enough evidence for every effect; rarer ranks share zero.
    private func mainEffect(vocab: UInt64, model: FieldModel, rank: Int) -> Double {
        if rank % model.cardinality >= Self.rankLimit(cardinality: model.cardinality, rows: 500) { return 0 }
        return model.mainScale * weight(vocab, model: model, rank: rank, 1)
    }

    /// Latent factor `k` of a rank; only ranks drawn at least once per 100 rows interact.
    private func latent(vocab: UInt64, model: FieldModel, rank: Int, _ k: Int) -> Double {
        if rank < 0 || rank % model.cardinality >= Self.rankLimit(cardinality: model.cardinality, rows: 100) { return 0 }
        return 0.7 * weight(vocab, model: model, rank: rank, 100 + UInt64(k))
    }

    /// The unit Gaussian behind coordinate `c` of a value's weights (1: main effect, 100 + k: latent k), moved by the drift.
    private func weight(_ vocab: UInt64, model: FieldModel, rank: Int, _ c: UInt64) -> Double {
        guard let drift else { return unitGaussian(vocab, UInt64(bitPattern: Int64(rank)), c) }
        let fresh = vocab ^ SplitMix64.mix(drift.seed &+ 0xF4E5)
        // A new value (rank ≥ cardinality, see `renamed`): weights of its own, never those of an old value.
        if rank >= model.cardinality { return unitGaussian(fresh, UInt64(rank - model.cardinality), c) }
        // A changed taste: the value's main effect, or its whole latent vector, is redrawn.
        if Self.unit(drift.seed, vocab, UInt64(bitPattern: Int64(rank)), c >= 100 ? 100 : 1) < drift.fraction {
            return unitGaussian(fresh &+ 0x7A57E, UInt64(bitPattern: Int64(rank)), c)
        }
        return unitGaussian(vocab, UInt64(bitPattern: Int64(rank)), c)
    }

    /// A uniform number in [0, 1) fixed by its coordinates.
    private static func unit(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> Double {
        let h = SplitMix64.mix(SplitMix64.mix(a ^ 0xD21F_7000) ^ SplitMix64.mix(b &* 0x9E37_79B9 ^ SplitMix64.mix(c &+ d &* 0x85EB_CA6B)))
        return Double(h >> 11) / Double(1 << 53)
    }

    /// `rank` of vocabulary `vocab`, or the new value replacing it under the drift (rank + cardinality: a value the
    /// undrifted model never writes, since a token's text is a bijection of its rank).
    private func renamed(_ rank: Int, vocab: UInt64, model: FieldModel) -> Int {
        guard let drift, model.renames, rank >= 0, Self.unit(drift.seed, vocab, UInt64(rank), 0xAD) < drift.fraction else { return rank }
        return rank + model.cardinality
    }

    // MARK: - Drawing

    struct Row {
        var ranks: [Int]
        var numbers: [Double?]
        var tokens: [[Int]]
        var probability = 0.0
    }

    private func zipf(_ cardinality: Int, _ rng: inout SplitMix64) -> Int {
        let r = Int(exp(rng.nextUnit() * log(Double(cardinality) + 1))) - 1
        return min(max(r, 0), cardinality - 1)
    }

    private func draw(_ rng: inout SplitMix64) -> Row {
        var row = Row(ranks: [], numbers: [], tokens: [])
        var logit = intercept
        for (f, model) in categorical.enumerated() {
            let rank = rng.nextUnit() < Self.missingRate ? -1 : renamed(zipf(model.cardinality, &rng), vocab: UInt64(f), model: model)
            row.ranks.append(rank)
            logit += mainEffect(vocab: UInt64(f), model: model, rank: rank)
        }
        // Factorization-machine interactions over every pair of fields: ½(‖Σu‖² − Σ‖u‖²), where u is a
        // categorical value's latent vector or a sequence's mean latent (zero when missing or rare).
        var total = [Double](repeating: 0, count: Self.latentDimension), squares = 0.0
        func interact(_ u: [Double]) {
            for k in 0..<Self.latentDimension {
                total[k] += u[k]
                squares += u[k] * u[k]
            }
        }
        for (f, model) in categorical.enumerated() {
            interact((0..<Self.latentDimension).map { latent(vocab: UInt64(f), model: model, rank: row.ranks[f], $0) })
        }
        for model in numeric {
            guard rng.nextUnit() >= Self.missingRate else {
                row.numbers.append(nil)
                logit += model.missingEffect
                continue
            }
            var x = exp(model.mu + model.sigma * rng.nextGaussian())
            if model.integer { x = x.rounded(.down) }
            // A smooth effect on the value's own scale (around its median, in units of its spread), so a
            // StandardScaler or MinMaxScaler input can express it; log-scale effects would need a transform
            // no dataset_config declares.
            let median = exp(model.mu)
            let z = min(max((x - median) / (median * model.sigma), -3), 3)
            logit += model.weight * tanh(z) + model.curve * z * z / 4
            row.numbers.append(model.integer ? x : (x * 100).rounded() / 100)
        }
        for (s, model) in sequences.enumerated() {
            let vocab = model.shared.map { UInt64($0) } ?? UInt64(1000 + s)
            let source = model.shared.map { categorical[$0] } ?? model.own
            let count = rng.nextUnit() < Self.missingRate ? 0 : Int(rng.nextUnit() * (1.5 * Double(model.maxLength) + 1))
            var tokens: [Int] = []
            for _ in 0..<count { tokens.append(renamed(zipf(source.cardinality, &rng), vocab: vocab, model: source)) }
            row.tokens.append(tokens)
            let kept = model.keepsLast ? Array(tokens.suffix(model.maxLength)) : Array(tokens.prefix(model.maxLength))
            guard !kept.isEmpty else { continue }
            var main = 0.0
            var mean = [Double](repeating: 0, count: Self.latentDimension)
            for token in kept {
                main += mainEffect(vocab: vocab, model: source, rank: token)
                for k in 0..<Self.latentDimension { mean[k] += latent(vocab: vocab, model: source, rank: token, k) }
            }
            logit += main / Double(kept.count)
            interact(mean.map { $0 / Double(kept.count) })
        }
        let norm = total.reduce(0) { $0 + $1 * $1 }
        logit += pairScale * (norm - squares) / 2
        row.probability = 1 / (1 + exp(-logit))
        return row
    }

    private func calibrate(target: Double) -> Double {
        var probe = self
        var low = -8.0, high = 8.0
        for _ in 0..<30 {
            probe.intercept = (low + high) / 2
            var rng = SplitMix64(seed: seed ^ 0xCA11_B8A7E)
            var sum = 0.0
            for _ in 0..<4000 { sum += probe.draw(&rng).probability }
            if sum / 4000 > target { high = probe.intercept } else { low = probe.intercept }
        }
        return (low + high) / 2
    }

    // MARK: - Writing

    private func appendToken(_ rank: Int, model: FieldModel, to out: inout OutputFile) {
        // A bijection of the rank within 2^32 (an odd multiplier is invertible), salted per field.
        let code = UInt32(truncatingIfNeeded: (UInt64(rank) &* 0x9E37_79B1 &+ model.salt) & 0xFFFF_FFFF)
        if model.integerText {
            out.appendDecimal(Int64(code))
        } else {
            out.appendHex(code)
        }
    }

    private func appendTwoDigits(_ value: Int, to out: inout OutputFile) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private func appendNumber(_ value: Double, integer: Bool, to out: inout OutputFile) {
        if integer {
            out.appendDecimal(Int64(value))
            return
        }
        let cents = Int64((value * 100).rounded())
        out.appendDecimal(cents / 100)
        out.append(UInt8(ascii: "."))
        let fraction = cents % 100
        out.append(UInt8(ascii: "0") + UInt8(fraction / 10))
        out.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// Writes `rows` rows as the config's CSV layout (a header unless it lists `column_names`) and the true
    /// probabilities, one per line, to `truthPath`.
    public func write(rows: Int, to path: String, truthPath: String) throws(CTRDataError) -> SynthesisSummary {
        guard rows > 0 else { throw CTRDataError(.invalidArgument, path: nil, detail: "rows must be positive, got \(rows)") }
        let schema = config.schema
        let columns = config.columnNames ?? ([schema.label] + schema.inactiveColumns + schema.fields.map(\.name))
        enum Column { case label, inactive, categorical(Int), numeric(Int), sequence(Int) }
        let table = FieldNameTable(schema: schema)
        let layout: [Column] = columns.map { name in
            if name == schema.label { return .label }
            switch table.field(named: name) {
            case .categorical(let i): return .categorical(i)
            case .dense(let i): return .numeric(i)
            case .sequence(let i): return .sequence(i)
            case .ignored, nil: return .inactive
            }
        }
        let separator = config.separator
        var data = try OutputFile(path: path)
        var truth = try OutputFile(path: truthPath)
        if config.columnNames == nil {
            for (i, name) in columns.enumerated() {
                if i > 0 { data.append(separator) }
                // Names with a separator or quote are quoted, as RFC 4180 wants.
                let needsQuotes = name.utf8.contains(separator) || name.utf8.contains(UInt8(ascii: "\""))
                if needsQuotes { data.append(UInt8(ascii: "\"")) }
                for byte in name.utf8 {
                    if byte == UInt8(ascii: "\"") { data.append(byte) }
                    data.append(byte)
                }
                if needsQuotes { data.append(UInt8(ascii: "\"")) }
            }
            data.append(0x0A)
        }
        // A drifted day draws rows of its own: the same seed's stream would repeat the undrifted day's users and contexts.
        var rng = SplitMix64(seed: drift.map { SplitMix64.mix(seed ^ SplitMix64.mix($0.seed ^ 0xDA7)) } ?? seed)
        var clicks = 0, sum = 0.0
        for index in 0..<rows {
            let row = draw(&rng)
            let clicked = rng.nextUnit() < row.probability
            if clicked { clicks += 1 }
            sum += row.probability
            for (i, column) in layout.enumerated() {
                if i > 0 { data.append(separator) }
                switch column {
                case .label:
                    data.append(clicked ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                case .inactive:
                    // A time stamp, as logs carry: one row a second from 2017-05-06 00:00:00.
                    let day = 6 + index / 86_400 % 20, second = index % 86_400
                    for byte in "2017-05-".utf8 { data.append(byte) }
                    appendTwoDigits(day, to: &data)
                    data.append(UInt8(ascii: " "))
                    appendTwoDigits(second / 3600, to: &data)
                    data.append(UInt8(ascii: ":"))
                    appendTwoDigits(second / 60 % 60, to: &data)
                    data.append(UInt8(ascii: ":"))
                    appendTwoDigits(second % 60, to: &data)
                case .categorical(let f):
                    if row.ranks[f] >= 0 { appendToken(row.ranks[f], model: categorical[f], to: &data) }
                case .numeric(let f):
                    if let value = row.numbers[f] { appendNumber(value, integer: numeric[f].integer, to: &data) }
                case .sequence(let s):
                    let model = sequences[s]
                    let source = model.shared.map { categorical[$0] } ?? model.own
                    for (k, token) in row.tokens[s].enumerated() {
                        if k > 0 { for byte in model.splitter { data.append(byte) } }
                        appendToken(token, model: source, to: &data)
                    }
                }
            }
            data.append(0x0A)
            truth.appendProbability(row.probability)
            truth.append(0x0A)
            try data.flushIfFull()
            try truth.flushIfFull()
        }
        try data.close()
        try truth.close()
        return SynthesisSummary(seed: seed, rows: rows, clicks: clicks, meanProbability: sum / Double(rows),
                                dataPath: path, truthPath: truthPath)
    }
}
