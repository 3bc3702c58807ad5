import Foundation

/// A real git repository made by the real `git` in a temporary folder, isolated from the user's
/// configuration (temporary HOME, no system config, no prompts, `GIT_DIR`/`GIT_WORK_TREE` unset).
public final class TemporaryGitRepository: @unchecked Sendable {
  // @unchecked: the folder is immutable after init; git commands run synchronously.
  public let directory: TemporaryDirectory
  public let home: TemporaryDirectory
  public var url: URL { directory.url }
  public var path: String { directory.path }

  /// The environment every git (and git-rag) command in tests runs with.
  public static func isolatedEnvironment(home: String) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for key in env.keys where key.hasPrefix("GIT_") { env.removeValue(forKey: key) }
    env["HOME"] = home
    env["XDG_CONFIG_HOME"] = home + "/.config"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env["GIT_AUTHOR_NAME"] = "Test Author"
    env["GIT_AUTHOR_EMAIL"] = "author@example.com"
    env["GIT_COMMITTER_NAME"] = "Test Committer"
    env["GIT_COMMITTER_EMAIL"] = "committer@example.com"
    return env
  }

  public var environment: [String: String] { Self.isolatedEnvironment(home: home.path) }

  public init(branch: String = "main") throws {
    directory = try TemporaryDirectory(prefix: "git-rag-repo")
    home = try TemporaryDirectory(prefix: "git-rag-home")
    try git("init", "-q", "-b", branch)
  }

  /// Runs `git ARGS` in the repository and returns its stdout (trailing newline trimmed).
  @discardableResult
  public func git(_ arguments: String...) throws -> String { try git(arguments) }

  @discardableResult
  public func git(_ arguments: [String], in subdirectory: String? = nil) throws -> String {
    let dir = subdirectory.map { url.appendingPathComponent($0) } ?? url
    let result = try runProcess("git", arguments, in: dir, environment: environment)
    return result.stdout.trimmingCharacters(in: .newlines)
  }

  /// Writes the files, stages them and commits; returns the new commit id.
  @discardableResult
  public func commit(_ files: [String: String] = [:], message: String = "commit") throws -> String {
    for (path, contents) in files { try write(path, contents) }
    if !files.isEmpty { try git(["add", "--"] + files.keys.sorted()) }
    try git("commit", "-q", "--allow-empty", "-m", message)
    return try git("rev-parse", "HEAD")
  }

  @discardableResult
  public func write(_ relativePath: String, _ contents: String) throws -> URL {
    try directory.write(relativePath, contents)
  }

  @discardableResult
  public func write(_ relativePath: String, data: Data) throws -> URL {
    try directory.write(relativePath, data: data)
  }

  public func remove(_ relativePath: String) throws {
    try FileManager.default.removeItem(at: url.appendingPathComponent(relativePath))
  }

  public var head: String { (try? git("rev-parse", "HEAD")) ?? "" }
}
