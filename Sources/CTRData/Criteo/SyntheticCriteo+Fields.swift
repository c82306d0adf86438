/// The fixed shape of the synthetic data: per-field distributions and which fields carry signal.
///
/// Cardinalities and missing rates follow the real Criteo day files, scaled so a few fields still
/// show 10^5+ distinct values in a million rows. The signal's strengths are fixed here; the seed only
/// draws the per-value effects, latent factors, dense slopes and the rows themselves.
extension SyntheticCriteo {
    /// How one categorical field's values are drawn and how strongly they move the click logit.
    struct CategoricalSpec {
        /// Number of possible values; ranks are drawn Zipf-like from 0..<cardinality.
        var cardinality: Int
        /// Zipf exponent: larger means a heavier head.
        var exponent: Double
        /// Probability that the value is missing (empty field).
        var missingRate: Double
        /// Standard deviation of the per-value effect on the logit (0: no main effect).
        var mainEffect: Double
    }

    /// How one integer field is drawn (a shifted log-normal count) and how it moves the logit.
    struct DenseSpec {
        var missingRate: Double
        /// Mean and spread of ln(value + 1 + shift).
        var mu: Double
        var sigma: Double
        /// Subtracted after flooring, so a field can hold -1 like Criteo's I2.
        var shift: Int64
        /// Effect of the standardized log value, and of its square (a bend a linear model cannot fit).
        var slope: Double
        var curvature: Double
    }

    /// Ranks at or beyond this carry no signal: their values are too rare to learn from in ~1M rows,
    /// so their effect is the field's shared "rare value" effect, zero.
    static let signalRanks = 500

    /// A value carries signal only if it is drawn at least this often (and its rank is below ``signalRanks``).
    ///
    /// With signal on every rank below 500, rank 499 of the largest fields appeared only ~140 times per
    /// million rows: a per-value effect estimated from 140 Bernoulli draws at a 25% rate has a standard
    /// error (~0.19 on the logit) as large as the effect itself, so no model trained on ~1M rows could
    /// approach the oracle. At 1/1000, every value with signal is seen >= 1,000 times per million rows
    /// (standard error <= ~0.07), while the high-cardinality fields keep their long tail of rare values.
    static let minSignalFrequency = 1e-3

    /// A value takes part in interactions only if it is drawn at least this often (missing always does).
    ///
    /// An interaction moves a row's logit by `weight·<latent, latent>`, so a row tells a model far less
    /// about a value's latent factor than about its main effect (the information per row scales with
    /// weight² ≈ 0.1): estimating a latent factor as well as a main effect takes ~10× the rows. At 1/200,
    /// every interacting value is seen >= 5,000 times per million rows.
    static let minInteractionFrequency = 5e-3

    /// Dimension of the per-value latent factors whose dot products form the pairwise interactions.
    /// Two (not four) keeps the 12 pairs' factors within reach of a 16-wide FM embedding and halves the
    /// number of factors to estimate; the weights below are √2 larger to keep the interactions' variance.
    static let latentDimension = 2

    /// Click rate the intercept is calibrated to, like Criteo's ~25%.
    static let targetCTR = 0.25

    static let categorical: [CategoricalSpec] = [
        .init(cardinality: 1_460, exponent: 1.2, missingRate: 0, mainEffect: 0.25),         // C1
        .init(cardinality: 583, exponent: 1.1, missingRate: 0, mainEffect: 0.25),           // C2
        .init(cardinality: 2_000_000, exponent: 1.05, missingRate: 0.03, mainEffect: 0.2),  // C3
        .init(cardinality: 800_000, exponent: 1.05, missingRate: 0.03, mainEffect: 0),      // C4
        .init(cardinality: 305, exponent: 1.3, missingRate: 0, mainEffect: 0.25),           // C5
        .init(cardinality: 24, exponent: 1.0, missingRate: 0.12, mainEffect: 0.3),          // C6
        .init(cardinality: 12_517, exponent: 1.1, missingRate: 0, mainEffect: 0.2),         // C7
        .init(cardinality: 633, exponent: 1.2, missingRate: 0, mainEffect: 0.2),            // C8
        .init(cardinality: 3, exponent: 1.5, missingRate: 0, mainEffect: 0.3),              // C9
        .init(cardinality: 93_145, exponent: 1.1, missingRate: 0, mainEffect: 0.2),         // C10
        .init(cardinality: 5_683, exponent: 1.1, missingRate: 0, mainEffect: 0.2),          // C11
        .init(cardinality: 1_500_000, exponent: 1.05, missingRate: 0.03, mainEffect: 0),    // C12
        .init(cardinality: 3_194, exponent: 1.1, missingRate: 0, mainEffect: 0.2),          // C13
        .init(cardinality: 27, exponent: 1.0, missingRate: 0, mainEffect: 0.25),            // C14
        .init(cardinality: 14_992, exponent: 1.1, missingRate: 0, mainEffect: 0),           // C15
        .init(cardinality: 1_000_000, exponent: 1.05, missingRate: 0.03, mainEffect: 0.15), // C16
        .init(cardinality: 10, exponent: 1.0, missingRate: 0, mainEffect: 0.3),             // C17
        .init(cardinality: 5_652, exponent: 1.1, missingRate: 0, mainEffect: 0),            // C18
        .init(cardinality: 2_173, exponent: 1.1, missingRate: 0.44, mainEffect: 0.2),       // C19
        .init(cardinality: 4, exponent: 1.0, missingRate: 0.44, mainEffect: 0.25),          // C20
        .init(cardinality: 1_200_000, exponent: 1.05, missingRate: 0.03, mainEffect: 0),    // C21
        .init(cardinality: 18, exponent: 1.2, missingRate: 0.76, mainEffect: 0.2),          // C22
        .init(cardinality: 15, exponent: 1.0, missingRate: 0, mainEffect: 0.25),            // C23
        .init(cardinality: 286_181, exponent: 1.1, missingRate: 0.03, mainEffect: 0.15),    // C24
        .init(cardinality: 105, exponent: 1.2, missingRate: 0.44, mainEffect: 0.2),         // C25
        .init(cardinality: 142_572, exponent: 1.1, missingRate: 0.44, mainEffect: 0),       // C26
    ]

    static let dense: [DenseSpec] = [
        .init(missingRate: 0.45, mu: 0.8, sigma: 1.2, shift: 0, slope: 0.25, curvature: 0),       // I1
        .init(missingRate: 0, mu: 1.5, sigma: 2.0, shift: 1, slope: -0.15, curvature: 0.05),      // I2
        .init(missingRate: 0.21, mu: 1.8, sigma: 1.5, shift: 0, slope: 0.1, curvature: 0),        // I3
        .init(missingRate: 0.22, mu: 1.6, sigma: 1.0, shift: 0, slope: -0.1, curvature: 0),       // I4
        .init(missingRate: 0.03, mu: 7.0, sigma: 2.0, shift: 0, slope: -0.2, curvature: -0.05),   // I5
        .init(missingRate: 0.22, mu: 3.0, sigma: 1.8, shift: 0, slope: 0.1, curvature: 0),        // I6
        .init(missingRate: 0.04, mu: 1.5, sigma: 1.5, shift: 0, slope: 0.2, curvature: 0),        // I7
        .init(missingRate: 0.0005, mu: 2.3, sigma: 1.0, shift: 0, slope: 0.05, curvature: 0),     // I8
        .init(missingRate: 0.04, mu: 3.5, sigma: 1.5, shift: 0, slope: 0.1, curvature: -0.05),    // I9
        .init(missingRate: 0.45, mu: 0.3, sigma: 0.8, shift: 0, slope: 0.15, curvature: 0),       // I10
        .init(missingRate: 0.04, mu: 1.2, sigma: 1.0, shift: 0, slope: 0.2, curvature: 0),        // I11
        .init(missingRate: 0.77, mu: 0.3, sigma: 1.5, shift: 0, slope: 0.1, curvature: 0),        // I12
        .init(missingRate: 0.22, mu: 1.5, sigma: 1.2, shift: 0, slope: 0.1, curvature: 0),        // I13
    ]

    /// Two categorical fields (zero-based) whose values' latent factors interact, and the weight of their dot product.
    struct Interaction {
        var first: Int
        var second: Int
        var weight: Double

        init(_ first: Int, _ second: Int, _ weight: Double) {
            self.first = first
            self.second = second
            self.weight = weight
        }
    }

    /// Small-by-small, small-by-large and large-by-large pairs, so both FM and attention have work to do.
    static let interactions: [Interaction] = [
        .init(0, 1, 0.28), .init(5, 13, 0.35), .init(8, 16, 0.35), .init(4, 7, 0.28), .init(2, 9, 0.21),
        .init(10, 12, 0.28), .init(19, 22, 0.35), .init(23, 25, 0.21), .init(0, 5, 0.28), .init(1, 21, 0.28),
        .init(14, 17, 0.28), .init(6, 24, 0.21),
    ]
}
