// swift-tools-version: 6.1
// Micro-benchmarks (ordo-one/benchmark), kept out of the main package so `swift build` stays light.
// Run: cd Benchmarks && swift package benchmark   (or: make bench-micro)
import PackageDescription

let package = Package(
    name: "ClickwiseBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Clickwise", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ORTRun",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ONNXRuntime", package: "Clickwise"),
            ],
            path: "Benchmarks/ORTRun",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CTRServer", package: "Clickwise"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "MetricsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CTRServing", package: "Clickwise"),
            ],
            path: "Benchmarks/MetricsBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "VocabularyLookup",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CTRFeatures", package: "Clickwise"),
            ],
            path: "Benchmarks/VocabularyLookup",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
