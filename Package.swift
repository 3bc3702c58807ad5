// swift-tools-version:6.2
import PackageDescription

// The local model's bfloat16 matrix kernels are compiled for AVX-512 with AVX512_BF16 (optimised
// in debug builds too: the tests run the model); nothing calls them on a CPU without those.
#if arch(x86_64)
  let bfloat16KernelSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512", "-Xcc", "-mavx512bf16", "-O"])]
#else
  let bfloat16KernelSettings: [SwiftSetting] = []
#endif

let package = Package(
  name: "git-rag",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "git-rag", targets: ["git-rag"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
  ],
  targets: [
    // MARK: - C libraries (system packages, one shim header each)
    .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
    .systemLibrary(name: "CArchive", providers: [.apt(["libarchive-dev"])]),
    .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(name: "CBFloat16"),
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

    // MARK: - Foundation: values, configuration, errors, logging
    .target(name: "GitRAGCore", dependencies: ["COpenSSL", .product(name: "Logging", package: "swift-log")]),

    // MARK: - Domain modules
    .target(name: "HTTPTransport", dependencies: ["CCurl", "GitRAGCore"]),
    .target(name: "Git", dependencies: ["CLibGit2", "GitRAGCore"]),
    .target(name: "Chunking", dependencies: ["GitRAGCore"]),
    .target(name: "BFloat16Kernels", dependencies: ["CBFloat16"], swiftSettings: bfloat16KernelSettings),
    .target(name: "Embedding", dependencies: ["CBLAS", "CBFloat16", "BFloat16Kernels", "GitRAGCore", "HTTPTransport"]),
    .target(name: "Store", dependencies: ["CSQLiteConfig", "GitRAGCore", "HTTPTransport", .product(name: "GRDB", package: "GRDB.swift")]),
    .target(name: "Archive", dependencies: ["CArchive", "GitRAGCore"]),
    .target(
      name: "Indexing",
      dependencies: ["Git", "Chunking", "Embedding", "Store", "Archive", "GitRAGCore", .product(name: "Logging", package: "swift-log")]
    ),
    .target(name: "Hooks", dependencies: ["GitRAGCore"]),
    .target(name: "Runtimes", dependencies: ["GitRAGCore", "HTTPTransport"]),

    // MARK: - Front ends: the shared library, the command line
    .target(name: "GitRAGKit", dependencies: ["GitRAGCore", "Git", "Chunking", "Embedding", "Store", "Indexing"]),
    .target(
      name: "GitRAGMCP",
      dependencies: [
        "GitRAGCore", "GitRAGKit", "Indexing",
        .product(name: "MCP", package: "swift-sdk"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .target(
      name: "GitRAGCLI",
      dependencies: [
        "GitRAGCore", "GitRAGKit", "GitRAGMCP", "Git", "Chunking", "Embedding", "Store", "Indexing", "Hooks", "Runtimes",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(name: "git-rag", dependencies: ["GitRAGCLI", "GitRAGCore"]),

    // MARK: - Tests
    .target(
      name: "GitRAGTestSupport", dependencies: ["GitRAGCore", "Store", "Git", "Embedding", "Indexing"], path: "Sources/GitRAGTestSupport"),
    .testTarget(name: "GitRAGCoreTests", dependencies: ["GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "GitRAGTestSupport"]),
    .testTarget(name: "GitTests", dependencies: ["Git", "GitRAGTestSupport"]),
    .testTarget(name: "ChunkingTests", dependencies: ["Chunking", "GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(
      name: "EmbeddingTests", dependencies: ["Embedding", "BFloat16Kernels", "HTTPTransport", "GitRAGCore", "GitRAGTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "StoreTests", dependencies: ["Store", "GitRAGCore", "GitRAGTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "IndexingTests", dependencies: ["Indexing", "Git", "Chunking", "Embedding", "Store", "GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(name: "HooksTests", dependencies: ["Hooks", "GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(name: "RuntimesTests", dependencies: ["Runtimes", "GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(name: "IntegrationTests", dependencies: ["Indexing", "Store", "Embedding", "Git", "GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(name: "GitRAGKitTests", dependencies: ["GitRAGKit", "GitRAGCore", "Git", "Indexing", "Store", "GitRAGTestSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["GitRAGCore", "GitRAGTestSupport"]),
    .testTarget(
      name: "GitRAGCLITests",
      dependencies: [
        "GitRAGCLI", "GitRAGKit", "GitRAGCore", "Embedding", "Indexing", "Store", "GitRAGTestSupport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)

// Warnings are errors in every Swift target of this package (dependencies keep their own settings).
for target in package.targets where target.type != .system {
  target.swiftSettings = (target.swiftSettings ?? []) + [.treatAllWarnings(as: .error)]
}
