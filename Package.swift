// swift-tools-version:6.0
// skipdit: a Skip-DiT video renderer daemon. Module layout: see README.md, "Design".
import PackageDescription

/// Code generation for the numeric targets: AVX2+FMA (Haswell and later) is the baseline the
/// hand-written kernels are vectorised for; the heavy GEMMs live in OpenBLAS/oneDNN, which
/// dispatch on the CPU at run time.
let numericSwift: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-march=haswell"])]

/// The C and C++ shims are built with glibc's checked string and memory functions in release builds.
let fortify = CSetting.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))
let fortifyCXX = CXXSetting.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))

/// Release builds of the daemon link the Swift standard library, Foundation and Dispatch statically,
/// so the installed binary needs only Debian's libraries, not the toolchain (README, "Installing").
/// A link-time flag of the executable alone: every module compiles the same way as for the tests,
/// whose XCTest bundle stays dynamic (there is no static XCTest). The sanitizer builds set
/// SKIPDIT_DYNAMIC_STDLIB=1: their runtimes expect the shared Swift runtime. Relocations are resolved
/// at load time and made read-only (-z now, -z relro), as Debian hardens its daemons.
let staticStdlib: [LinkerSetting] =
    Context.environment["SKIPDIT_DYNAMIC_STDLIB"] == nil
    ? [
        .unsafeFlags(
            [
                "-static-stdlib",
                // the static Foundation's own dependencies (its swift_static module would autolink them
                // had the modules been compiled for static linking; they are compiled as for the tests)
                "-lFoundationInternationalization", "-lFoundationEssentials", "-lCoreFoundation",
                "-l_FoundationCollections", "-l_FoundationCShims", "-l_FoundationICU", "-lswiftSynchronization",
                "-Xlinker", "-z", "-Xlinker", "now", "-Xlinker", "-z", "-Xlinker", "relro",
            ],
            .when(platforms: [.linux], configuration: .release))
    ] : []

let package = Package(
    name: "skipdit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "skipdit", targets: ["skipdit"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System-library shims: module maps plus static-inline helpers for C macros.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .target(name: "CDNNL", path: "Sources/CDNNL", cSettings: [fortify]),
        .systemLibrary(
            name: "CFFmpeg", path: "Sources/CFFmpeg",
            pkgConfig: "libavformat libavcodec libswscale libavutil"),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1"),
        .target(
            name: "CSentencePiece", path: "Sources/CSentencePiece", cxxSettings: [fortifyCXX],
            linkerSettings: [.linkedLibrary("sentencepiece")]),

        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CDNNL"], swiftSettings: numericSwift),
        .target(name: "Checkpoints", dependencies: ["TensorCore"], swiftSettings: numericSwift),
        .target(name: "Diffusion", dependencies: ["TensorCore"], swiftSettings: numericSwift),
        .target(name: "Latte", dependencies: ["TensorCore", "Checkpoints"], swiftSettings: numericSwift),
        .target(name: "VAE", dependencies: ["TensorCore", "Checkpoints"], swiftSettings: numericSwift),
        .target(name: "Sampling", dependencies: ["TensorCore", "Diffusion", "Latte"], swiftSettings: numericSwift),
        .target(
            name: "TextEncoder", dependencies: ["TensorCore", "Checkpoints", "CSentencePiece"],
            swiftSettings: numericSwift),
        .target(name: "VideoIO", dependencies: ["CFFmpeg"]),
        .target(name: "Jobs", dependencies: ["CYAML"]),
        .target(name: "Spool", dependencies: ["Jobs", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Processes"),
        .target(name: "Slurm", dependencies: ["Jobs", "Processes"]),
        .target(
            name: "Conformance",
            dependencies: ["TensorCore", "Checkpoints", "Diffusion", "Latte", "Sampling", "VAE", "TextEncoder"]),
        .target(
            name: "Render",
            dependencies: [
                "TensorCore", "Checkpoints", "Diffusion", "Latte", "Sampling", "VAE", "TextEncoder", "VideoIO", "Jobs",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Daemon",
            dependencies: [
                "Spool", "Render", "Jobs", "Slurm", "Processes", "VideoIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "Benchmarks",
            dependencies: [
                "TensorCore", "Checkpoints", "Latte", "VAE", "TextEncoder", "Diffusion", "Sampling", "Jobs", "Render",
            ]),
        .executableTarget(
            name: "skipdit",
            dependencies: [
                "TensorCore", "Checkpoints", "Conformance", "Benchmarks", "VideoIO", "Jobs", "Spool", "Render",
                "Daemon", "Slurm",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ], linkerSettings: staticStdlib),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"], resources: []),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints", "TensorCore", "TestSupport"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "Conformance", "TestSupport"]),
        .testTarget(name: "LatteTests", dependencies: ["Latte", "Conformance", "TestSupport"]),
        .testTarget(name: "VAETests", dependencies: ["VAE", "Conformance", "TestSupport"]),
        .testTarget(name: "TextEncoderTests", dependencies: ["TextEncoder", "Conformance", "TestSupport"]),
        .testTarget(name: "VideoIOTests", dependencies: ["VideoIO", "TestSupport"]),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "TestSupport"]),
        .testTarget(name: "SlurmTests", dependencies: ["Slurm", "Jobs"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "TestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Jobs", "TestSupport"]),
        .target(name: "TestSupport", dependencies: ["Checkpoints", "TensorCore", "Latte"], path: "Tests/TestSupport"),
    ],
    swiftLanguageModes: [.v5]
)

// Fuzzing (scripts/fuzz, `make fuzz`): the libFuzzer driver over every reader of untrusted bytes. It
// exists only when SKIPDIT_FUZZ=1, so `make build` and `make test` never see it; scripts/fuzz builds
// it with `-sanitize=fuzzer,address -parse-as-library` in .build-fuzz.
if Context.environment["SKIPDIT_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "skipdit-fuzz", dependencies: ["Checkpoints", "Jobs", "Render", "TextEncoder"],
            path: "Fuzz/Sources/skipdit-fuzz"))
}
