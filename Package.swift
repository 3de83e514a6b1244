// swift-tools-version:6.0
import PackageDescription

// Cross-module optimization lets the generic (Float/Double) model code be specialized
// for Float where the executable instantiates it; without it every pointwise loop runs
// through generic witnesses, measured ~300x slower. The flags are unsafe only in that
// SwiftPM refuses them for packages used as dependencies; this package is an application.
//
// On x86-64 the Swift code is built for `-target-cpu haswell`: AVX2, FMA and BMI2, which
// every x86-64 CPU since Intel Haswell (2013) and AMD Zen (2017) has, so one binary runs
// on every node of a cluster. SIMD16 lanes become two ymm registers instead of four SSE
// ones (measured +7 % tokens/s on config C against the default target), and the packed
// small-row GEMM picks its AVX-512 or AVX2 kernels at run time (`PackedKernels`).
// HARNESS_TARGET_CPU overrides it when building: `native` tunes for the building machine
// (the binary then refuses to start on a CPU without its instructions), `x86-64` builds
// for any x86-64. The BuildInfo plugin records the choice and the instructions it needs.
#if arch(x86_64)
let targetCPU = Context.environment["HARNESS_TARGET_CPU"] ?? "haswell"
let optimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization", "-target-cpu", targetCPU])]
#else
let optimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"])]
#endif

let package = Package(
    name: "LMHarness",
    products: [
        .executable(name: "harness", targets: ["harness"]),
        .executable(name: "harness-microbench", targets: ["harness-microbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // System libraries
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // HDF5, the format of bilm-tf's and AllenNLP's ELMo weights (`harness import-elmo`).
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),
        // OpenSSL's libcrypto: SHA-256 of the data checksums (`HarnessData/SHA256.swift`).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // Header-only clang builtins (an errno-free square root) for the optimizers' loops.
        .systemLibrary(name: "CIntrinsics"),

        // The packed small-row GEMM, one variant per instruction set chosen at run time.
        .target(name: "PackedKernels"),

        // Counts heap allocations for `harness bench` (interposes malloc; glibc only).
        .target(name: "AllocationCounter"),

        // Numerical core
        .target(
            name: "HarnessKernels",
            dependencies: ["CBLAS", "CIntrinsics", "PackedKernels", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: optimized,
            linkerSettings: [.linkedLibrary("openblas")]
        ),
        .target(
            name: "HarnessModel",
            dependencies: ["HarnessKernels"],
            swiftSettings: optimized
        ),

        .target(
            name: "HarnessSpec",
            // HarnessKernels: a component file holds its layer's math next to its keys.
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessData", .product(name: "Yams", package: "Yams")],
            swiftSettings: optimized
        ),

        .target(
            name: "HarnessData",
            dependencies: ["HarnessModel", "HarnessKernels", "COpenSSL"],
            swiftSettings: optimized
        ),

        .target(
            name: "HarnessTraining",
            // SystemPackage: checkpoints are read with pread into the parameters (`Checkpoint`).
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessData", "HarnessSpec",
                           .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: optimized
        ),

        .target(
            name: "HarnessReports",
            dependencies: ["HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", .product(name: "Yams", package: "Yams")],
            swiftSettings: optimized
        ),

        .target(
            name: "HarnessEmbeddings",
            dependencies: ["HarnessTraining", "HarnessModel", "HarnessData", "HarnessKernels"],
            swiftSettings: optimized
        ),

        // bilm-tf / AllenNLP ELMo models (options.json + HDF5 weights) as harness run directories.
        .target(
            name: "HarnessELMo",
            dependencies: ["CHDF5", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel"],
            swiftSettings: optimized
        ),

        // Executables
        .executableTarget(
            name: "harness",
            dependencies: ["HarnessTraining", "HarnessReports", "HarnessEmbeddings", "HarnessELMo", "HarnessSpec", "HarnessData",
                           "HarnessModel", "AllocationCounter", "HarnessKernels",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimized,
            plugins: ["BuildInfo"]
        ),
        .executableTarget(
            name: "harness-microbench",
            dependencies: ["HarnessKernels", "HarnessModel", "HarnessData"],
            path: "Benchmarks/harness-microbench",
            swiftSettings: optimized
        ),

        // Plugins
        // Records the commit and the CPU of each build in the harness executable.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .plugin(
            name: "CheckReferences",
            capability: .command(
                intent: .custom(verb: "check-references", description: "Run the pinned reference perplexities (--update re-records them)"),
                permissions: [.writeToPackageDirectory(reason: "--update rewrites references/expected.json")]
            )
        ),

        // Tests
        .testTarget(
            name: "HarnessKernelsTests",
            dependencies: ["HarnessKernels"]
        ),
        .testTarget(
            name: "HarnessSpecTests",
            dependencies: ["HarnessSpec", "HarnessModel", "HarnessKernels", "HarnessTraining"]
        ),
        .testTarget(
            name: "HarnessDataTests",
            dependencies: ["HarnessData", "HarnessModel", "HarnessKernels"]
        ),
        .testTarget(
            name: "HarnessTrainingTests",
            dependencies: ["HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", "harness"]
        ),
        .testTarget(
            name: "HarnessReportsTests",
            dependencies: ["HarnessReports", "HarnessTraining", "HarnessSpec", "HarnessModel", "harness"]
        ),
        .testTarget(
            name: "HarnessEmbeddingsTests",
            dependencies: ["HarnessEmbeddings", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels"]
        ),
        .testTarget(
            name: "HarnessELMoTests",
            // harness: the tests run `harness import-elmo` and `harness embed` as a user would.
            dependencies: ["HarnessELMo", "HarnessEmbeddings", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel",
                           "HarnessKernels", "harness"]
        ),
        .testTarget(
            name: "FuzzTests",
            dependencies: ["HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", "HarnessReports"]
        ),
        .testTarget(
            name: "HarnessModelTests",
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessSpec"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
