import Foundation
import GitRAGTestSupport
import Testing

@Suite struct HooksEndToEndTests {
  /// `git rag hooks print NAME` gives each file of the repository's hooks/ byte for byte
  /// (scripts/generate-hooks writes them that way); an unknown name is a usage error.
  @Test func hooksPrintGivesTheFilesInHooks() throws {
    let home = try TemporaryDirectory(prefix: "git-rag-hooks-print")
    let environment = TemporaryGitRepository.isolatedEnvironment(home: home.path)
    for name in ["post-checkout", "post-commit", "post-merge", "post-rewrite"] {
      let printed = try GitRAGBinary.run(["hooks", "print", name], in: TestServer.repositoryRoot, environment: environment)
      #expect(printed.status == 0, "\(printed.stderr)")
      let file = try String(contentsOf: TestServer.repositoryRoot.appendingPathComponent("hooks/\(name)"), encoding: .utf8)
      #expect(printed.stdout == file, "hooks/\(name) differs from `git rag hooks print \(name)`")
    }
    let unknown = try GitRAGBinary.run(["hooks", "print", "pre-push"], in: TestServer.repositoryRoot, environment: environment)
    #expect(unknown.status == 2)
    #expect(unknown.stderr.contains("No git-rag hook is named pre-push"), "\(unknown.stderr)")
  }

  /// Installed hooks run the real binary in the background; a burst of commits coalesces through
  /// the sync lock and ends with the index at HEAD.
  @Test func twentyCommitsInATightLoopEndWithTheIndexAtHead() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["README.md": "# Hooks\n"])
    let install = try e2e.gitRAG("hooks", "install")
    #expect(install.status == 0, "\(install.stderr)")
    #expect(install.stdout.contains("post-commit: installed"))

    let start = Date()
    for i in 0..<20 {
      try e2e.repo.write("notes/\(i).md", "# Note \(i)\n\nThe hook indexes note number \(i).\n")
      try runProcess("git", ["add", "."], in: e2e.repo.url, environment: e2e.environment)
      try runProcess("git", ["commit", "-q", "-m", "note \(i)"], in: e2e.repo.url, environment: e2e.environment)
    }
    let commitSeconds = Date().timeIntervalSince(start)
    // The commits never waited for a sync (each would take far longer than this).
    #expect(commitSeconds < 20)

    let head = e2e.repo.head
    let deadline = Date().addingTimeInterval(90)
    var indexed: String?
    while Date() < deadline {
      // The lock file stays; status says whether a sync holds it.
      if let status = try? e2e.json("status"), status["sync_running"] as? Bool == false {
        indexed = status["last_indexed_commit"] as? String
        if indexed == head { break }
      }
      Thread.sleep(forTimeInterval: 0.3)
    }
    #expect(indexed == head)
    let log = (try? String(contentsOf: e2e.repo.url.appendingPathComponent(".git/rag/hook.log"), encoding: .utf8)) ?? ""
    #expect(!log.contains("error"), "\(log)")

    // Uninstall leaves no git-rag hook behind.
    #expect(try e2e.gitRAG("hooks", "uninstall").status == 0)
    #expect(!FileManager.default.fileExists(atPath: e2e.repo.url.appendingPathComponent(".git/hooks/post-commit").path))
  }

  @Test func skipVariableDisablesTheHooks() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.txt": "a\n"])
    try e2e.gitRAG("hooks", "install")
    var env = e2e.environment
    env["GIT_RAG_SKIP_HOOKS"] = "1"
    try runProcess("git", ["commit", "-q", "--allow-empty", "-m", "skipped"], in: e2e.repo.url, environment: env)
    // The hook opens its log before it starts a sync, and returned before git did.
    #expect(!FileManager.default.fileExists(atPath: e2e.repo.url.appendingPathComponent(".git/rag/hook.log").path))
    let store = e2e.repo.url.appendingPathComponent(".git/rag/\(e2e.repo.url.lastPathComponent).sqlite")
    #expect(!FileManager.default.fileExists(atPath: store.path))
  }
}
