// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Clickwise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clickwise", targets: ["clickwise"]),
        .library(name: "ONNXRuntime", targets: ["ONNXRuntime"]),
        .library(name: "CTRFeatures", targets: ["CTRFeatures"]),
        .library(name: "CTRData", targets: ["CTRData"]),
        .library(name: "CTRModels", targets: ["CTRModels"]),
        .library(name: "CTRServing", targets: ["CTRServing"]),
        .library(name: "CTRServer", targets: ["CTRServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "ONNXRuntime", swiftSettings: strict),
        .target(name: "CTRFeatures", swiftSettings: strict),
        .target(name: "CTRData", dependencies: ["CTRFeatures"], swiftSettings: strict),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CTRModels", dependencies: ["CTRFeatures", "CTRData", "COpenBLAS"], swiftSettings: strict),
        .target(name: "CTRServing", dependencies: ["ONNXRuntime", "CTRFeatures"], swiftSettings: strict),
        .target(name: "CTRServer", dependencies: ["CTRServing"], swiftSettings: strict),
        .executableTarget(
            name: "clickwise",
            dependencies: [
                "ONNXRuntime", "CTRFeatures", "CTRData", "CTRModels", "CTRServing", "CTRServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .testTarget(name: "ONNXRuntimeTests", dependencies: ["ONNXRuntime"], swiftSettings: strict),
        .testTarget(name: "CTRFeaturesTests", dependencies: ["CTRFeatures"], swiftSettings: strict),
        .testTarget(name: "CTRDataTests", dependencies: ["CTRData"], swiftSettings: strict),
        .testTarget(name: "CTRModelsTests", dependencies: ["CTRModels", "ONNXRuntime"], swiftSettings: strict),
        .testTarget(name: "CTRServingTests", dependencies: ["CTRServing"], swiftSettings: strict),
        .testTarget(name: "CTRServerTests", dependencies: ["CTRServer"], swiftSettings: strict),
    ]
)
