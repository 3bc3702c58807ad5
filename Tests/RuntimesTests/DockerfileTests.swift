import Foundation
import GitRAGTestSupport
import Testing

/// The debug build of `git-rag` next to this test bundle (the same folder as `swift build --show-bin-path`).
private let builtBinary: String? = {
  let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for candidate in [folder, folder.deletingLastPathComponent()] {
    let path = candidate.appendingPathComponent("git-rag").path
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  if let shown = try? runProcess("swift", ["build", "--show-bin-path"], in: repositoryRoot, check: false),
    shown.status == 0
  {
    let path = shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/git-rag"
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return nil
}()

@Suite struct DockerfileTests {
  let dockerfile: String

  init() throws {
    dockerfile = String(decoding: try readRepositoryFile("Dockerfile"), as: UTF8.self)
  }

  /// The runtime stage's lines (after the last FROM), continuation lines joined.
  var runtimeStage: [String] {
    let joined = dockerfile.replacingOccurrences(of: "\\\n", with: " ")
    let lines = joined.split(separator: "\n").map(String.init)
    let last = lines.lastIndex { $0.hasPrefix("FROM ") }!
    return Array(lines[last...])
  }

  var runtimePackages: [String] {
    get throws {
      let line = try #require(runtimeStage.first { $0.hasPrefix("RUN ") && $0.contains("apt-get install") })
      let words = line.split(whereSeparator: { $0 == " " }).map(String.init)
      let start = words.firstIndex(of: "--no-install-recommends")! + 1
      return Array(words[start...].prefix { !$0.hasPrefix("&&") })
    }
  }

  @Test func stagesEntrypointAndUser() throws {
    #expect(dockerfile.contains("FROM ${SWIFT_IMAGE} AS build"))
    #expect(dockerfile.contains("ARG SWIFT_IMAGE=swift:6.3-bookworm"))
    #expect(runtimeStage.first == "FROM debian:bookworm-slim")
    #expect(runtimeStage.contains(#"ENTRYPOINT ["git-rag", "worker"]"#))
    #expect(runtimeStage.contains("USER git-rag"))
    #expect(dockerfile.contains("ARG WITH_MODEL=0"))
    // The build stage runs the same script CI runs.
    for step in ["packages", "build /out", "model /out"] {
      #expect(dockerfile.contains("scripts/docker-build-steps.sh \(step)"))
    }
    let script = String(decoding: try readRepositoryFile("scripts/docker-build-steps.sh"), as: UTF8.self)
    #expect(script.contains("swift build -c release --static-swift-stdlib --product git-rag"))
    try runProcess("bash", ["-n", repositoryRoot.appendingPathComponent("scripts/docker-build-steps.sh").path])
  }

  @Test func runtimePackagesMatchTheBuildScript() throws {
    let listed = try runProcess(repositoryRoot.appendingPathComponent("scripts/docker-build-steps.sh").path, ["runtime-packages"])
    #expect(try runtimePackages == listed.stdout.split(separator: "\n").map(String.init))
    let dockerignore = String(decoding: try readRepositoryFile(".dockerignore"), as: UTF8.self)
    #expect(dockerignore.split(separator: "\n").contains(".build"))
  }

  /// Every shared library `ldd git-rag` names belongs to a runtime package, to a package they
  /// depend on, or to Debian's required base; the Swift runtime is linked in statically.
  @Test(.enabled(if: builtBinary != nil, "no debug build of git-rag next to the tests: run `swift build` first"))
  func runtimePackagesCoverTheBinarysLibraries() throws {
    let binary = builtBinary!
    let ldd = try runProcess("ldd", [binary]).stdout
    var libraries: [String] = []
    var swiftRuntime: [String] = []
    for line in ldd.split(separator: "\n") {
      guard let arrow = line.range(of: "=> "), let path = line[arrow.upperBound...].split(separator: " ").first,
        path.hasPrefix("/")
      else { continue }
      let library = String(path)
      if library.contains("/swift/") || library.contains("/usr/lib/swift") {
        swiftRuntime.append(library)  // linked statically by --static-swift-stdlib in the image
        continue
      }
      libraries.append(library)
    }
    let owners = try debianPackages(owning: libraries)
    #expect(!owners.isEmpty)
    for library in libraries where owners[library] == nil { Issue.record("no Debian package owns \(library)") }
    let available = try closure(of: try runtimePackages)
    for (library, package) in owners.sorted(by: { $0.key < $1.key }) {
      #expect(available.contains(package), "\(library) comes from \(package), which the runtime stage does not install")
    }
    print(
      "ldd \(binary): \(Set(owners.values).sorted().joined(separator: " ")); static in the image: \(swiftRuntime.count) Swift runtime libraries"
    )
  }

  /// The Debian package owning each library, from one `dpkg -S` over every spelling of its path
  /// (merged /usr, symlinks resolved).
  private func debianPackages(owning libraries: [String]) throws -> [String: String] {
    var spellings: [String: String] = [:]
    for library in libraries {
      let real = URL(fileURLWithPath: library).resolvingSymlinksInPath().path
      for path in [library, "/usr" + library, real, real.hasPrefix("/usr/") ? String(real.dropFirst(4)) : real] {
        spellings[path] = library
      }
    }
    let out = try runProcess("dpkg", ["-S"] + spellings.keys.sorted(), check: false).stdout
    var owners: [String: String] = [:]
    for line in out.split(separator: "\n") {
      guard let separator = line.range(of: ": /") else { continue }
      let path = "/" + line[separator.upperBound...]
      let package = line[..<separator.lowerBound].split(separator: ",").first?.split(separator: ":").first
      if let library = spellings[path], let package { owners[library] = String(package) }
    }
    return owners
  }

  /// Every installed package: (priority, dependency names), from one `dpkg-query`.
  private func installedPackages() throws -> [String: (priority: String, depends: [String])] {
    let out = try runProcess("dpkg-query", ["-W", "-f", "${Package}\t${Priority}\t${Depends}, ${Pre-Depends}\n"]).stdout
    var packages: [String: (priority: String, depends: [String])] = [:]
    for line in out.split(separator: "\n") {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      // "libfoo (>= 1) | libbar": every alternative counts as provided for our purpose.
      let names = fields[2].split(whereSeparator: { $0 == "," || $0 == "|" }).compactMap { option -> String? in
        let name = option.trimmingCharacters(in: .whitespaces).split(separator: " ").first?.split(separator: ":").first
        return name.map(String.init)
      }
      packages[String(fields[0])] = (String(fields[1]), names)
    }
    return packages
  }

  /// `runtime` plus Debian's `required` base (in every image, slim included) and all they depend on.
  private func closure(of runtime: [String]) throws -> Set<String> {
    let installed = try installedPackages()
    var seen = Set<String>()
    var queue = runtime + installed.filter { $0.value.priority == "required" }.map(\.key)
    while let package = queue.popLast() {
      guard seen.insert(package).inserted else { continue }
      queue += installed[package]?.depends.filter { !seen.contains($0) } ?? []
    }
    return seen
  }
}
