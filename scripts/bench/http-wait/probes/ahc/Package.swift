// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "ahc-probe",
  platforms: [.macOS(.v14)],
  dependencies: [.package(url: "https://github.com/swift-server/async-http-client.git", from: "1.33.0")],
  targets: [.executableTarget(name: "ahc-probe", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")])]
)
