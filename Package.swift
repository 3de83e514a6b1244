// swift-tools-version:6.1
import PackageDescription

// No unsafe flags by default, so that the libraries can be a versioned dependency (SwiftPM
// refuses `unsafeFlags` there). The numerical kernels that model code instantiates for Float
// are `@inlinable` (HarnessKernels), the layers `@_specialize`d, in place of
// `-cross-module-optimization`, which measured 15x slower without them.
//
// Host tuning is opt-in, for a build of this package as the root only: HARNESS_TARGET_CPU
// (`haswell`: AVX2, FMA and BMI2, every x86-64 CPU since Intel Haswell, 2013, and AMD Zen,
// 2017; `native`: the building machine's own) compiles the Swift code for that CPU (SIMD16
// lanes in two ymm registers instead of four xmm ones; config C at one thread: 2 % and 17 %
// more tokens/s in two alternating runs, README "Design notes"). A binary built with it refuses to start on a CPU without those instructions.
// The packed small-row GEMM picks its AVX-512 or AVX2 kernels at run time either way
// (`PackedKernels`). The BuildInfo plugin records the choice and what it requires.
#if arch(x86_64)
let hostTuning: [SwiftSetting] = Context.environment["HARNESS_TARGET_CPU"].map { [.unsafeFlags(["-target-cpu", $0])] } ?? []
#else
let hostTuning: [SwiftSetting] = []
#endif

let package = Package(
    name: "LMHarness",
    products: [
        // Everything a component needs (kernels, component protocols, registries and the
        // spec reader, model assembly, data, training), in one `import HarnessComponents`.
        .library(name: "HarnessComponents", targets: ["HarnessComponents"]),
        // The command line as a function taking extra components: `Harness.main(registering:)`.
        .library(name: "HarnessCommandLine", targets: ["HarnessCommandLine"]),
        // The gradient checker and the PyTorch-probe helpers, for a component's tests.
        .library(name: "HarnessTestSupport", targets: ["HarnessTestSupport"]),
        .executable(name: "harness", targets: ["harness"]),
        .executable(name: "harness-microbench", targets: ["harness-microbench"]),
    ],
    traits: [
        // Off by default: the plain build needs no MPI library.
        .trait(name: "MPI", description: "Data-parallel training of one model over MPI (`mpirun -np N harness run SPEC`); "
               + "needs an MPI library found by pkg-config as `mpi` (Debian: libopenmpi-dev)."),
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
        // MPI (Open MPI on Debian), for the MPI trait only.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "mpi",
            providers: [.apt(["libopenmpi-dev"])]
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
            swiftSettings: hostTuning,
            linkerSettings: [.linkedLibrary("openblas")]
        ),
        .target(
            name: "HarnessModel",
            dependencies: ["HarnessKernels"],
            swiftSettings: hostTuning
        ),

        .target(
            name: "HarnessSpec",
            // HarnessKernels: a component file holds its layer's math next to its keys.
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessData", .product(name: "Yams", package: "Yams")],
            swiftSettings: hostTuning
        ),

        .target(
            name: "HarnessData",
            // SystemPackage: the corpus cache is written and read (pread) through FileDescriptor.
            dependencies: ["HarnessModel", "HarnessKernels", "COpenSSL", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: hostTuning
        ),

        .target(
            name: "HarnessTraining",
            // SystemPackage: checkpoints are read with pread into the parameters (`Checkpoint`).
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessData", "HarnessSpec",
                           .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: hostTuning
        ),

        .target(
            name: "HarnessReports",
            dependencies: ["HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", .product(name: "Yams", package: "Yams")],
            swiftSettings: hostTuning
        ),

        .target(
            name: "HarnessEmbeddings",
            dependencies: ["HarnessTraining", "HarnessModel", "HarnessData", "HarnessKernels"],
            swiftSettings: hostTuning
        ),

        // bilm-tf / AllenNLP ELMo models (options.json + HDF5 weights) as harness run directories.
        .target(
            name: "HarnessELMo",
            dependencies: ["CHDF5", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel"],
            swiftSettings: hostTuning
        ),

        // The processes of an MPI job as a `Communicator` (empty without the MPI trait).
        .target(
            name: "HarnessMPI",
            dependencies: ["HarnessModel", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]
        ),

        // Libraries for a researcher's own package (Examples/layer-norm-lstm).
        .target(
            name: "HarnessComponents",
            dependencies: ["HarnessKernels", "HarnessModel", "HarnessData", "HarnessSpec", "HarnessTraining"]
        ),
        .target(
            name: "HarnessCommandLine",
            dependencies: ["HarnessTraining", "HarnessReports", "HarnessEmbeddings", "HarnessELMo", "HarnessSpec", "HarnessData",
                           "HarnessModel", "AllocationCounter", "HarnessKernels",
                           .target(name: "HarnessMPI", condition: .when(traits: ["MPI"])),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: hostTuning,
            plugins: ["BuildInfo"]
        ),
        .target(
            name: "HarnessTestSupport",
            dependencies: ["HarnessKernels", "HarnessModel"]
        ),

        // Executables
        .executableTarget(
            name: "harness",
            dependencies: ["HarnessCommandLine"]
        ),
        .executableTarget(
            name: "harness-microbench",
            dependencies: ["HarnessKernels", "HarnessModel", "HarnessData", "HarnessSpec", "HarnessTraining"],
            path: "Benchmarks/harness-microbench",
            swiftSettings: hostTuning
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
            dependencies: ["HarnessKernels", "PackedKernels"]
        ),
        .testTarget(
            name: "HarnessSpecTests",
            dependencies: ["HarnessSpec", "HarnessModel", "HarnessKernels", "HarnessTraining", "HarnessTestSupport"]
        ),
        .testTarget(
            name: "HarnessDataTests",
            dependencies: ["HarnessData", "HarnessModel", "HarnessKernels", "HarnessTestSupport"]
        ),
        .testTarget(
            name: "HarnessTrainingTests",
            dependencies: ["HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", "harness", "HarnessTestSupport"]
        ),
        .testTarget(
            name: "HarnessReportsTests",
            dependencies: ["HarnessReports", "HarnessTraining", "HarnessSpec", "HarnessModel", "harness", "HarnessTestSupport"]
        ),
        .testTarget(
            name: "HarnessEmbeddingsTests",
            dependencies: ["HarnessEmbeddings", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels"]
        ),
        .testTarget(
            name: "HarnessELMoTests",
            // harness: the tests run `harness import-elmo` and `harness embed` as a user would.
            dependencies: ["HarnessELMo", "HarnessEmbeddings", "HarnessTraining", "HarnessSpec", "HarnessData", "HarnessModel",
                           "HarnessKernels", "harness", "HarnessTestSupport"]
        ),
        .testTarget(
            // Builds Examples/layer-norm-lstm against a tagged clone (tools/test-example).
            name: "ExamplePackageTests"
        ),
        .testTarget(
            name: "FuzzTests",
            dependencies: ["HarnessSpec", "HarnessData", "HarnessModel", "HarnessKernels", "HarnessReports"]
        ),
        .testTarget(
            name: "HarnessModelTests",
            dependencies: ["HarnessModel", "HarnessKernels", "HarnessSpec", "HarnessTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
