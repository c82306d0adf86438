/// What FuxiCTR's `feature_processor.pkl` holds that its JSON files do not, as plain data.
///
/// The pickle itself is read by a restricted unpickler (see `clickwise import fuxictr`), which turns the
/// allowed FuxiCTR and scikit-learn classes into this summary and never runs code from the pickle.
public struct FuxiCTRProcessorSummary: Sendable, Equatable, Decodable {
    /// One fitted `Tokenizer` (categorical or sequence feature).
    public struct Tokenizer: Sendable, Equatable, Decodable {
        /// The value FuxiCTR treats as missing (the feature's `fill_na`, default `""`).
        public var naValue: String
        /// The sequence splitter; nil for categorical features.
        public var splitter: String?
        /// Tokens kept per sequence (resolved at fit time).
        public var maxLength: Int
        /// `pre` or `post`: where sequences are padded and truncated.
        public var padding: String
        /// Whether tokens were remapped to consecutive indices (FuxiCTR's default).
        public var remap: Bool
        /// `max(index) + 1` of the fitted vocabulary.
        public var vocabularySize: Int
        /// The `__OOV__` index.
        public var oovIndex: Int?
        /// The `__PAD__` index.
        public var paddingIndex: Int?

        /// Creates a tokenizer summary.
        public init(naValue: String = "", splitter: String? = nil, maxLength: Int = 0, padding: String = "pre", remap: Bool = true,
                    vocabularySize: Int, oovIndex: Int?, paddingIndex: Int? = 0) {
            self.naValue = naValue
            self.splitter = splitter
            self.maxLength = maxLength
            self.padding = padding
            self.remap = remap
            self.vocabularySize = vocabularySize
            self.oovIndex = oovIndex
            self.paddingIndex = paddingIndex
        }

        private enum CodingKeys: String, CodingKey {
            case naValue = "na_value", splitter, maxLength = "max_len", padding, remap, vocabularySize = "vocab_size"
            case oovIndex = "oov", paddingIndex = "pad"
        }
    }

    /// One fitted scikit-learn scaler, by the constants its `transform` uses.
    public struct Scaler: Sendable, Equatable, Decodable {
        /// `StandardScaler` or `MinMaxScaler`.
        public var className: String
        /// StandardScaler's `mean_` (0 when fitted `with_mean=False`).
        public var mean: Double?
        /// `scale_` (StandardScaler: 1 when fitted `with_std=False`).
        public var scale: Double
        /// MinMaxScaler's `min_`.
        public var min: Double?

        /// Creates a scaler summary.
        public init(className: String, mean: Double? = nil, scale: Double, min: Double? = nil) {
            self.className = className
            self.mean = mean
            self.scale = scale
            self.min = min
        }

        private enum CodingKeys: String, CodingKey {
            case className = "class", mean, scale, min
        }
    }

    /// The processor's `feature_map.dataset_id`.
    public var datasetID: String?
    /// Per feature name, its tokenizer.
    public var tokenizers: [String: Tokenizer]
    /// Per feature name, its fitted normalizer.
    public var normalizers: [String: Scaler]

    /// Creates a summary.
    public init(datasetID: String?, tokenizers: [String: Tokenizer], normalizers: [String: Scaler]) {
        self.datasetID = datasetID
        self.tokenizers = tokenizers
        self.normalizers = normalizers
    }

    private enum CodingKeys: String, CodingKey {
        case datasetID = "dataset_id", tokenizers, normalizers
    }
}
