import ArgumentParser
import CTRModels

// Parsed from `--model deepfm|autoint|lr`; the raw values are the names users type.
extension ModelArchitecture: ExpressibleByArgument {}

// Parsed from `--dense-encoding buckets|numeric`.
extension DenseEncoding: ExpressibleByArgument {}
