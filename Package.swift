// swift-tools-version:6.0
import PackageDescription

// Cross-module optimization lets the generic (Float/Double) model code be specialized
// for Float where the executable instantiates it; without it every pointwise loop runs
// through generic witnesses, measured ~300x slower. The flag is unsafe only in that
// SwiftPM refuses it for packages used as dependencies; this package is an application.
let optimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"])]

let package = Package(
    name: "LMHarness",
    products: [
        .executable(name: "harness-microbench", targets: ["harness-microbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // System libraries
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // Numerical core
        .target(
            name: "HarnessKernels",
            dependencies: ["CBLAS", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: optimized,
            linkerSettings: [.linkedLibrary("openblas")]
        ),
        .target(
            name: "HarnessModel",
            dependencies: ["HarnessKernels"],
            swiftSettings: optimized
        ),

        // Executables
        .executableTarget(
            name: "harness-microbench",
            dependencies: ["HarnessKernels", "HarnessModel"],
            path: "Benchmarks/harness-microbench",
            swiftSettings: optimized
        ),

        // Tests
        .testTarget(
            name: "HarnessKernelsTests",
            dependencies: ["HarnessKernels"]
        ),
        .testTarget(
            name: "HarnessModelTests",
            dependencies: ["HarnessModel", "HarnessKernels"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
