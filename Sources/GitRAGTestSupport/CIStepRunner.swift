import Foundation

/// Runs a generated CI job step by step on this machine, as a fresh runner would:
/// `scripts/testsupport/ci_step_runner.py` (see its header for what it emulates).
public struct CIStepRunner {
  public struct Step: Sendable {
    public let name: String
    public let outcome: String
    public let seconds: Double
    public let output: String
  }

  public struct Report: Sendable {
    /// success, failure or not-run (the job's `if` or `rules` left it out).
    public let status: String
    public let seconds: Double
    public let steps: [Step]
    /// Cache key to whether it was restored.
    public let caches: [String: Bool]
    /// How many secret values appeared in the logs.
    public let leaked: Int
    /// The step logs (secrets masked).
    public let log: String

    public func step(_ name: String) -> Step? { steps.first { $0.name == name } }
  }

  /// github or gitlab.
  public let provider: String
  public let pipeline: URL
  /// Survives between runs, as a CI service's cache does.
  public let cache: TemporaryDirectory

  public init(provider: String, pipeline: URL) throws {
    self.provider = provider
    self.pipeline = pipeline
    cache = try TemporaryDirectory(prefix: "git-rag-ci-cache")
  }

  /// Runs the job for a push of `commit` on `branch` of `repository`. `context` adds `secrets`,
  /// `vars` (GitHub) or `variables` (GitLab), `path` and `depth` (see the script).
  public func run(repository: String, branch: String, commit: String, context extra: [String: Any]) throws -> Report {
    let work = try TemporaryDirectory(prefix: "git-rag-ci-runner")
    var context: [String: Any] = ["repository": repository, "branch": branch, "commit": commit]
    for (key, value) in extra { context[key] = value }
    let contextFile = work.url.appendingPathComponent("context.json")
    try JSONSerialization.data(withJSONObject: context).write(to: contextFile)
    let script = TestServer.repositoryRoot.appendingPathComponent("scripts/testsupport/ci_step_runner.py").path
    let result = try runProcess(
      "/usr/bin/env",
      [
        "python3", script, provider, "--pipeline", pipeline.path, "--context", contextFile.path,
        "--work", work.url.appendingPathComponent("runner").path, "--cache", cache.path,
      ],
      check: false)
    guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
      throw TestServerError(message: "ci_step_runner.py failed (\(result.status)): \(result.stderr.suffix(3000))")
    }
    let steps = (object["steps"] as? [[String: Any]] ?? []).map {
      Step(
        name: $0["name"] as? String ?? "", outcome: $0["outcome"] as? String ?? "",
        seconds: ($0["seconds"] as? NSNumber)?.doubleValue ?? 0, output: $0["output"] as? String ?? "")
    }
    return Report(
      status: object["status"] as? String ?? "", seconds: (object["seconds"] as? NSNumber)?.doubleValue ?? 0, steps: steps,
      caches: object["caches"] as? [String: Bool] ?? [:], leaked: object["leaked"] as? Int ?? -1, log: result.stderr)
  }

  /// The PATH of a fresh runner on this machine: the system folders and the Swift toolchain,
  /// nothing of the tests' own build.
  public static var systemPath: String {
    var folders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    if let swift = try? runProcess("/bin/sh", ["-c", "command -v swift"], check: false).stdout.trimmingCharacters(
      in: .whitespacesAndNewlines),
      !swift.isEmpty
    {
      folders.append(URL(fileURLWithPath: swift).resolvingSymlinksInPath().deletingLastPathComponent().path)
    }
    return folders.joined(separator: ":")
  }
}
