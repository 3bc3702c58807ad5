import Foundation
import GitRAGCore

/// A folder of fake programs (`git-rag`, `docker`, `kubectl`) that record how they were called.
public final class FakeTools: @unchecked Sendable {
  // @unchecked: the folders are immutable after init.
  public let bin: TemporaryDirectory
  public let records: TemporaryDirectory

  public init() throws {
    bin = try TemporaryDirectory(prefix: "git-rag-fake-bin")
    records = try TemporaryDirectory(prefix: "git-rag-fake-records")
  }

  /// Writes an executable `name` running `body` (bash) after recording argv (one argument a line,
  /// in `<records>/<name>.argv`, calls separated by `--`), stdin and the environment.
  public func add(_ name: String, body: String = "exit 0") throws {
    let script = """
      #!/bin/bash
      rec="\(records.path)/\(name)"
      { printf '%s\\n' "$@"; echo --; } >> "$rec.argv"
      env > "$rec.env.$$"
      if [ ! -t 0 ]; then cat > "$rec.stdin.$$" 2>/dev/null || true; fi
      \(body)

      """
    try ExecutableFile.write(Data(script.utf8), to: bin.url.appendingPathComponent(name))
  }

  /// Every call's argv, in order.
  public func calls(_ name: String) -> [[String]] {
    guard let text = try? String(contentsOfFile: records.path + "/\(name).argv", encoding: .utf8) else { return [] }
    var calls: [[String]] = [], current: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
      if line == "--" { calls.append(current); current = [] } else { current.append(String(line)) }
    }
    return calls
  }

  /// The environments and stdins the calls saw (any order).
  public func environments(_ name: String) -> [String] { files(prefix: "\(name).env.") }
  public func stdins(_ name: String) -> [String] { files(prefix: "\(name).stdin.") }

  private func files(prefix: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: records.path)) ?? []
    return names.filter { $0.hasPrefix(prefix) }.sorted().compactMap {
      try? String(contentsOfFile: records.path + "/" + $0, encoding: .utf8)
    }
  }

  /// An environment whose PATH starts with the fakes (and, unless `systemPath` is false, then the system's).
  public func environment(_ extra: [String: String] = [:], home: String? = nil, systemPath: Bool = true) -> [String: String] {
    var env = TemporaryGitRepository.isolatedEnvironment(home: home ?? records.path)
    env["PATH"] = systemPath ? bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin") : bin.path
    for (key, value) in extra { env[key] = value }
    return env
  }
}

/// Runs a Python snippet with arguments and returns stdout; fails the test on a non-zero exit.
@discardableResult
public func python(_ code: String, _ arguments: [String] = [], input: Data? = nil) throws -> String {
  try runProcess("python3", ["-c", code] + arguments, input: input).stdout
}

/// The repository's own root folder (for files such as `hooks/`, `Dockerfile`, `ci-templates/`).
public let repositoryRoot = TestServer.repositoryRoot

/// The bytes of a file of the repository itself.
public func readRepositoryFile(_ path: String) throws -> Data {
  try Data(contentsOf: repositoryRoot.appendingPathComponent(path))
}
