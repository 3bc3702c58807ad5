// swift-tools-version:6.1
// The SHA-256 benchmark of scripts/bench/sha256/run: GitRAGCore's former hand-written SHA-256,
// swift-crypto (BoringSSL on Linux) and OpenSSL's libcrypto on the same inputs.
import PackageDescription

let package = Package(
  name: "sha256-bench",
  dependencies: [.package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3")],
  targets: [
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto"),
    .executableTarget(name: "SHA256Bench", dependencies: ["COpenSSL", .product(name: "Crypto", package: "swift-crypto")]),
  ],
  swiftLanguageModes: [.v6]
)
