// swift-tools-version:6.0
// PruneLang: look inside language-model weights and prune them.
// Layering (dependencies point downward only):
//   Numerics ← Models ← Training ← Pruning;  Plots ← PruneLang ← Kernel, REPL;  prunelang is the one executable.
import PackageDescription

let package = Package(
    name: "PruneLang",
    products: [
        .executable(name: "prunelang", targets: ["prunelang"]),
        .library(name: "Numerics", targets: ["Numerics"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Pruning", targets: ["Pruning"]),
        .library(name: "Plots", targets: ["Plots"]),
        .library(name: "PruneLangCore", targets: ["PruneLang"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System-library shims.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ",
                       providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline",
                       providers: [.apt(["libreadline-dev"])]),
        // HMAC-SHA256 for the Jupyter wire protocol's signatures (Kernel only): the system's OpenSSL.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),

        // Puts OpenBLAS on its AVX-512/AVX2 kernels where its CPU detection falls back to SSE3.
        .target(name: "COpenBLASCore", path: "Sources/COpenBLASCore"),

        // Quantised dot products in llama.cpp's arithmetic (AVX2 with a portable fallback).
        .target(name: "CQuant", path: "Sources/CQuant"),

        // The library layers.
        .target(name: "Numerics", dependencies: ["CBLAS", "COpenBLASCore"]),
        .target(name: "Models", dependencies: ["Numerics", "CQuant"]),
        // Forward and backward passes (the llama's, the small networks'), optimisers and training loops.
        .target(name: "Training", dependencies: ["Models", "Numerics"]),
        // Pruners, their registry, and the pruning studies on small networks (which train).
        .target(name: "Pruning", dependencies: ["Training", "Models", "Numerics"]),
        .target(name: "Plots"),
        .target(name: "PruneLang", dependencies: ["Numerics", "Models", "Pruning", "Training", "Plots"]),
        // The kernel's threads (shell, control, heartbeat, publisher) each own their sockets; Swift 5 mode
        // keeps the C pointers and the interpreter handed between them free of Sendable ceremony.
        .target(name: "Kernel", dependencies: [
            "PruneLang", "Numerics", "CZMQ", "CCrypto",
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // readline's C globals (hooks, line buffer) are shared mutable state by nature: Swift 5 mode here.
        .target(name: "REPL", dependencies: ["PruneLang", "Numerics", "Plots", "CReadline"], swiftSettings: [.swiftLanguageMode(.v5)]),

        // The one executable: REPL, script runner, kernel, kernelspec install, demos.
        .executableTarget(name: "prunelang", dependencies: [
            "Numerics", "PruneLang", "Kernel", "REPL",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Benchmarks: the Swift half of `bench/run` (the other half is the reference tool, in Python).
        .executableTarget(name: "prunelang-bench", dependencies: ["Numerics", "Models", "Pruning", "Training"],
                          path: "bench/Sources/prunelang-bench"),

        // Paths and reference helpers shared by the test targets (repo root, models, venv Python).
        .target(name: "TestHelpers", path: "Tests/TestHelpers"),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics", "TestHelpers"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Numerics", "TestHelpers"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Training", "Models", "Numerics", "TestHelpers"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Numerics", "TestHelpers"]),
        .testTarget(name: "PlotsTests", dependencies: ["Plots", "TestHelpers"]),
        .testTarget(name: "PruneLangTests", dependencies: ["PruneLang", "Plots", "Models", "Pruning", "Training", "Numerics", "TestHelpers"], exclude: ["corpus"]),
        .testTarget(name: "KernelTests", dependencies: ["Kernel"]),
    ]
)
