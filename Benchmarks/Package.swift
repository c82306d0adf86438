// swift-tools-version: 6.1
// Micro-benchmarks for Clickwise, kept out of the main package so its build never pulls them in.
// Run: cd Benchmarks && swift package benchmark   (see docs in Benchmarks/README.md)
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
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CTRServer", package: "Clickwise"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
