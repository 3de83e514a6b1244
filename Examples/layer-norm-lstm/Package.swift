// swift-tools-version:6.0
import PackageDescription

// A recurrent component written outside LM Harness, built against it as a versioned
// dependency: no fork, no change to the harness's sources. To build it against a local
// clone instead of the published one, point SwiftPM at the clone with a mirror:
//
//     swift package config set-mirror --original https://github.com/lm-harness/lm-harness \
//         --mirror file:///path/to/your/clone      (a clone with a tag, e.g. 0.6.0)
let package = Package(
    name: "layer-norm-lstm",
    products: [
        .library(name: "LayerNormLSTM", targets: ["LayerNormLSTM"]),
        .executable(name: "harness-layernorm", targets: ["harness-layernorm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/lm-harness/lm-harness", from: "0.6.0"),
    ],
    targets: [
        .target(
            name: "LayerNormLSTM",
            dependencies: [.product(name: "HarnessComponents", package: "lm-harness")]
        ),
        .executableTarget(
            name: "harness-layernorm",
            dependencies: ["LayerNormLSTM", .product(name: "HarnessCommandLine", package: "lm-harness"),
                           .product(name: "HarnessComponents", package: "lm-harness")]
        ),
        .testTarget(
            name: "LayerNormLSTMTests",
            dependencies: ["LayerNormLSTM", .product(name: "HarnessTestSupport", package: "lm-harness")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
