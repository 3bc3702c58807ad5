import Foundation
import GitRAGCore
import GitRAGTestSupport
import Testing

/// What coding agents and scripts rely on: `git rag mcp` driven by the official MCP Python SDK,
/// the `--json` outputs against their schemas, and the exit codes.
@Suite struct AgentEndToEndTests {
  static let clients = TestServer.repositoryRoot.appendingPathComponent("scripts/testclients")

  func fixture() throws -> EndToEnd {
    let e2e = try EndToEnd()
    try e2e.repo.commit([
      "config.py": "def parse_config(path):\n    \"\"\"Read the retry configuration.\"\"\"\n    return open(path).read()\n"
    ])
    try e2e.gitRAG("sync", "-q")
    return e2e
  }

  @Test func mcpSessionWithThePythonSDK() throws {
    let e2e = try fixture()
    var env = e2e.environment
    env["GIT_DIR"] = nil
    let result = try runProcess(
      "/usr/bin/env", ["python3", Self.clients.appendingPathComponent("mcp_session.py").path, GitRAGBinary.url.path, e2e.repo.path],
      in: e2e.repo.url, environment: env, check: false)
    #expect(result.status == 0, "\(result.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(report["server_name"] as? String == "git-rag")
    let tools = try #require(report["tools"] as? [String: [String]])
    #expect(tools["search"] == ["committed_only", "files", "k", "language", "path", "query"])
    #expect(tools["status"] == [] && tools["sync"] == [])
    #expect(report["search_required"] as? [String] == ["query"])

    let first = try #require(report["first_search"] as? [String: Any])
    #expect(first["is_error"] as? Bool == false)
    #expect((first["paths"] as? [String])?.contains("config.py") == true)
    #expect(first["schema_version"] as? Int == 1 && first["has_content"] as? Bool == true)
    #expect(first["fields"] as? [String] == ["file_changed", "keyword_rank", "payload", "score", "vector_rank", "working_tree"])

    #expect((report["status_before_sync"] as? [String: Any])?["commits_behind"] as? Int == 1)
    let sync = try #require(report["sync"] as? [String: Any])
    #expect(sync["is_error"] as? Bool == false && sync["files_added"] as? Int == 1)
    #expect(!((sync["progress"] as? [Any]) ?? []).isEmpty)
    #expect((report["status_after_sync"] as? [String: Any])?["commits_behind"] as? Int == 0)

    /// The first hit of a search: its path and whether it came from the working tree.
    func top(_ key: String) -> (path: String?, workingTree: Bool?) {
      let hit = (report[key] as? [[Any]])?.first
      return (hit?.first as? String, hit?.last as? Bool)
    }
    let afterCommit = top("after_commit"), uncommitted = top("uncommitted")
    #expect(afterCommit.path == "backoff.py")
    #expect(afterCommit.workingTree == false)
    #expect(uncommitted.path == "jitter.py")
    #expect(uncommitted.workingTree == true)
    #expect(!((report["committed_only"] as? [[Any]]) ?? []).contains { $0[0] as? String == "jitter.py" })
    #expect(((report["path_filtered"] as? [[Any]]) ?? []).allSatisfy { $0[0] as? String == "config.py" })

    let empty = try #require(report["empty_query"] as? [String: Any])
    #expect(empty["is_error"] as? Bool == true && (empty["message"] as? String)?.hasPrefix("Give a query") == true)
    let huge = try #require(report["huge_k"] as? [String: Any])
    #expect(huge["is_error"] as? Bool == true && huge["message"] as? String == "-k must be between 1 and 1000, got 999999999999.")
  }

  /// Real outputs of every `--json` command, validated with Python's jsonschema.
  @Test func jsonOutputsMatchTheirSchemas() throws {
    let e2e = try fixture()
    try e2e.repo.write("notes.md", "# Notes\n\nRetry three times.\n")
    let upload = e2e.repo.url.appendingPathComponent("notes.md").path
    let cases: [(schema: String, arguments: [String])] = [
      ("sync", ["sync"]),
      ("search", ["search", "retry configuration"]),
      ("search", ["search", "--files", "retry configuration"]),
      ("search", ["search", "--committed", "retry"]),
      ("status", ["status"]),
      ("inspect", ["inspect", "config.py", "notes.md"]),
      ("collection-list", ["collection", "list"]),
      ("collection-info", ["collection", "info"]),
      ("upload", ["upload", "file", upload, "uploads"]),
    ]
    for (schema, arguments) in cases {
      let output = try e2e.gitRAG(arguments + ["--json"])
      #expect(output.status == 0, "\(arguments): \(output.stderr)")
      let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
      #expect(object?["schema_version"] as? Int == 1, "\(arguments)")
      let check = try runProcess(
        "/usr/bin/env",
        [
          "python3", Self.clients.appendingPathComponent("validate_json.py").path,
          TestServer.repositoryRoot.appendingPathComponent("docs/schemas/\(schema).schema.json").path,
        ],
        input: Data(output.stdout.utf8), check: false)
      #expect(check.status == 0, "\(arguments) against \(schema).schema.json: \(check.stdout)\(check.stderr)")
    }
  }

  @Test func exitCodes() throws {
    let e2e = try fixture()
    #expect(try e2e.gitRAG("search", "retry").status == ExitStatus.success)
    let none = try e2e.gitRAG("search", "--path", "nothing/**", "retry")
    #expect(none.status == ExitStatus.noResults && none.stdout.contains("No results."))
    #expect(try e2e.gitRAG("search", "--json", "--path", "nothing/**", "retry").status == ExitStatus.noResults)
    let huge = try e2e.gitRAG("search", "-k", "999999999999", "retry")
    #expect(huge.status == ExitStatus.usage && huge.stderr.contains("-k must be between 1 and 1000, got 999999999999."))
    #expect(try e2e.gitRAG("search", "-k", "0", "retry").status == ExitStatus.usage)
    #expect(try e2e.gitRAG("mcp", "--no-such-flag").status == ExitStatus.usage)
    let missing = try e2e.gitRAG("search", "--collection", "missing", "retry")
    #expect(missing.status == ExitStatus.failure && missing.stderr.contains("Collection missing not found"))
  }
}

extension EndToEnd {
  func gitRAG(_ arguments: [String]) throws -> ProcessResult {
    try GitRAGBinary.run(arguments, in: repo.url, environment: environment)
  }
}
