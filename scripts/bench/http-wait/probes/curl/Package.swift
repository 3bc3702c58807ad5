// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "curl-probe",
  platforms: [.macOS(.v14)],
  targets: [
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
    .target(name: "HTTPTransport", dependencies: ["CCurl"]),
    .executableTarget(name: "curl-probe", dependencies: ["HTTPTransport"]),
  ],
  swiftLanguageModes: [.v6]
)
