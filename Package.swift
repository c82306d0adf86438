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
        .library(name: "CTRGRPCProtocol", targets: ["CTRGRPCProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Protobuf's wire format read in place: ONNX files and gRPC messages.
        .target(name: "ProtobufWire", swiftSettings: strict),
        .target(name: "ONNXRuntime", dependencies: ["ProtobufWire"], swiftSettings: strict),
        .target(
            name: "CTRFeatures",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        .target(name: "CTRData", dependencies: ["CTRFeatures"], swiftSettings: strict),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CTRKernels"),
        .target(
            name: "CTRModels", dependencies: ["CTRFeatures", "CTRData", "COpenBLAS", "CTRKernels", "ONNXRuntime"],
            swiftSettings: strict),
        .target(
            name: "CTRServing",
            dependencies: [
                "ONNXRuntime", "CTRFeatures", "CTRData", .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        // Generated code only (scripts/gen_grpc.sh from Protos/): KServe v2 / Triton gRPC and grpc.health.v1.
        .target(
            name: "CTRGRPCProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict),
        .target(
            name: "CTRServer",
            dependencies: [
                "CTRServing", "CTRFeatures", "CTRGRPCProtocol", "ProtobufWire",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "clickwise",
            dependencies: [
                "ONNXRuntime", "CTRFeatures", "CTRData", "CTRModels", "CTRServing", "CTRServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),
        .target(name: "ClickwiseTestSupport", path: "Tests/ClickwiseTestSupport", swiftSettings: strict),
        .testTarget(name: "ONNXRuntimeTests", dependencies: ["ONNXRuntime", "ClickwiseTestSupport"], swiftSettings: strict),
        .testTarget(name: "CTRFeaturesTests", dependencies: ["CTRFeatures"], swiftSettings: strict),
        .testTarget(
            name: "CTRDataTests", dependencies: ["CTRData", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .testTarget(name: "CTRModelsTests", dependencies: ["CTRModels", "ONNXRuntime"], swiftSettings: strict),
        .testTarget(
            name: "CTRServingTests",
            dependencies: ["CTRServing", "CTRFeatures", "CTRModels", "ONNXRuntime", "ClickwiseTestSupport", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strict),
        .testTarget(
            name: "CTRServerTests",
            dependencies: [
                "CTRServer", "CTRServing", "CTRFeatures", "CTRData", "CTRModels", "ONNXRuntime", "ClickwiseTestSupport",
                "CTRGRPCProtocol", .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CTRGRPCProtocolTests",
            dependencies: [
                "CTRGRPCProtocol", "ClickwiseTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict),
        // The CLI as a process (the tools on any schema); it spawns the built binary, so it imports no executable target.
        .testTarget(
            name: "ClickwiseTests", dependencies: ["CTRFeatures", "ClickwiseTestSupport", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
    ]
)

// libFuzzer targets (Fuzz/, run by scripts/fuzz.sh). Declared only when CLICKWISE_FUZZ=1, so `make test`'s
// build never contains them, while as targets of this package they still reach `package` declarations.
if Context.environment["CLICKWISE_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzJSONScanner", ["CTRServer"]),
        ("FuzzPredictDecoder", ["CTRServer", "CTRServing", "CTRFeatures"]),
        ("FuzzInferJSON", ["CTRServer", "CTRServing", "CTRFeatures"]),
        ("FuzzInferBinary", ["CTRServer", "CTRServing", "CTRFeatures"]),
        ("FuzzGRPCInfer", ["CTRServer", "CTRServing", "CTRFeatures"]),
        ("FuzzCSVReader", ["CTRData", "CTRFeatures", "CTRServing"]),
        ("FuzzCriteoReader", ["CTRData", "CTRFeatures"]),
        ("FuzzEncoder", ["CTRFeatures"]),
        ("FuzzHTTPHandler", ["CTRServer", "CTRServing", .product(name: "NIOCore", package: "swift-nio"),
                             .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(
            name: target.name, dependencies: target.dependencies + ["FuzzSupport"], path: "Fuzz/\(target.name)",
            swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]))
    }
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CTRServer", "CTRServing", "CTRFeatures",
                                                                      .product(name: "NIOCore", package: "swift-nio")],
                                   path: "Fuzz/FuzzSupport", swiftSettings: strict))
}
