import ArgumentParser
import CTRModels

// Parsed from `--architecture deepfm|autoint|dcnv2|lr`; the raw values are the names users type.
extension ModelArchitecture: ExpressibleByArgument {}

// Parsed from `--dense-encoding buckets|numeric`.
extension DenseEncoding: ExpressibleByArgument {}

// Parsed from `--cross-structure crossnet_only|stacked|parallel|stacked_parallel`.
extension DCNv2.Structure: ExpressibleByArgument {}
