import Foundation
import GitRAGCore
import GitRAGTestSupport
import Testing

@testable import GitRAGCLI

/// The exit codes scripts rely on (README, "JSON and exit codes"): 0 results, 1 a search matched
/// nothing, 2 usage errors, 3 anything else, each error in one line on stderr.
@Suite struct ExitCodeTests {
  /// Usage errors found while parsing, in process: nothing is opened.
  @Test(arguments: [
    ["sync", "--no-such-flag"],
    ["search", "-k", "0", "alpha"],
    ["search", "-k", "1001", "alpha"],
    ["sync", "--max-file-size", "many"],
    ["no-such-command"],
    ["upload", "file", "/nonexistent"],
  ])
  func parseErrorsAreUsageErrors(_ arguments: [String]) async {
    #expect(await GitRAGCommand.runMain(arguments) == ExitStatus.usage)
  }

  /// A keyword-only index of a small repository, searched with the built binary.
  final class Indexed: Sendable {
    let repo: TemporaryGitRepository
    let data: TemporaryDirectory

    init() throws {
      repo = try TemporaryGitRepository()
      data = try TemporaryDirectory(prefix: "git-rag-cli-exit")
      try repo.commit(["app.py": "def alpha_handler():\n    return 1\n", "README.md": "# Demo\n\nAlpha notes.\n"])
      let synced = try run("sync")
      guard synced.status == 0 else { throw TestServerError(message: "git-rag sync failed (\(synced.status)): \(synced.stderr)") }
    }

    var environment: [String: String] {
      var environment = repo.environment
      environment["XDG_CACHE_HOME"] = data.path + "/cache"
      environment["XDG_DATA_HOME"] = data.path + "/data"
      environment["GIT_RAG_EMBEDDER"] = "none"
      environment["NO_COLOR"] = "1"
      return environment
    }

    func run(_ arguments: String..., in directory: URL? = nil, environment extra: [String: String] = [:]) throws -> ProcessResult {
      try GitRAGBinary.run(arguments, in: directory ?? repo.url, environment: environment.merging(extra) { _, new in new })
    }
  }

  @Test func aSearchWithResultsExitsZeroAndOneThatMatchesNothingExitsOne() throws {
    let indexed = try Indexed()
    let found = try indexed.run("search", "alpha")
    #expect(found.status == ExitStatus.success && found.stdout.contains("app.py"))
    let nothing = try indexed.run("search", "--path", "nowhere/**", "alpha")
    #expect(nothing.status == ExitStatus.noResults && !nothing.stdout.contains("app.py"), "\(nothing.stdout)")
    let json = try indexed.run("search", "--json", "--language", "cobol", "alpha")
    #expect(json.status == ExitStatus.noResults && json.stdout.contains("\"schema_version\""))
  }

  /// Bad setting values, wherever they come from, are usage errors naming what to fix.
  @Test func badSettingValuesAreUsageErrors() throws {
    let indexed = try Indexed()
    let flag = try indexed.run("status", "--store", "bogus")
    #expect(flag.status == ExitStatus.usage && flag.stderr.contains("Unknown store \"bogus\""))
    let environment = try indexed.run("sync", environment: ["GIT_RAG_MAX_FILE_SIZE": "abc"])
    #expect(environment.status == ExitStatus.usage && environment.stderr.contains("max file size"))
    try indexed.repo.git("config", "rag.embedder", "bogus")
    let git = try indexed.run("sync", environment: ["GIT_RAG_EMBEDDER": ""])
    #expect(git.status == ExitStatus.usage && git.stderr.contains("Unknown embedder \"bogus\""))
    for result in [flag, environment, git] {
      #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }
  }

  @Test func otherErrorsExitThreeWithOneLine() throws {
    let indexed = try Indexed()
    let outside = try TemporaryDirectory(prefix: "git-rag-cli-outside")
    let cases = [
      try indexed.run("search", "--collection", "missing", "alpha"),
      try indexed.run("sync", in: outside.url),
      try indexed.run("upload", "file", outside.path + "/missing.txt", "notes"),
    ]
    for result in cases {
      #expect(result.status == ExitStatus.failure, "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }
    #expect(cases[0].stderr.contains("Collection missing not found"))
    #expect(cases[1].stderr.contains("Not a git repository"))
  }
}
