// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "urlsession-probe",
  platforms: [.macOS(.v14)],
  targets: [.executableTarget(name: "urlsession-probe")],
  swiftLanguageModes: [.v6]
)
