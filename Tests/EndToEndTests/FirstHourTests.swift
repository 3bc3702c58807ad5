import Foundation
import GitRAGTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// What a new user meets in the first hour: exclusions that take effect, readable search output,
/// a delete that asks for a name, no needless requests, help and completion.
@Suite struct FirstHourTests {
  private func requests(_ e2e: EndToEnd) throws -> Int {
    let data = try Data(contentsOf: URL(string: e2e.server.baseURL + "/stats")!)
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["requests"] as? Int ?? -1
  }

  @Test func anExclusionCommittedLaterTakesEffect() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit([
      "docs/guide.md": "# Guide\n\nHow to configure the retry budget.\n", "docs/api.md": "# API\n\nThe endpoints.\n",
      "src/app.js": "function main() {\n  return 1;\n}\n",
    ])
    try e2e.gitRAG("sync")
    #expect(try e2e.json("status")["files"] as? Int == 3)

    try e2e.repo.commit([".gitattributes": "docs/** -rag\n"], message: "keep docs out")
    let sync = try e2e.json("sync")
    #expect((sync["skipped"] as? [[String: Any]] ?? []).filter { ($0["path"] as? String)?.hasPrefix("docs/") == true }.count == 2)
    let status = try e2e.json("status")
    #expect(status["files"] as? Int == 2)  // src/app.js and .gitattributes
    let search = try e2e.json("search", "retry budget")
    let paths = (search["results"] as? [[String: Any]] ?? []).compactMap { ($0["payload"] as? [String: Any])?["file_path"] as? String }
    #expect(!paths.isEmpty)
    #expect(!paths.contains { $0.hasPrefix("docs/") })

    // A smaller size limit drops what is now too large; the next sync at the default brings it back.
    try e2e.repo.commit(["src/big.js": String(repeating: "function f() { return 1; }\n", count: 40)], message: "big")
    try e2e.gitRAG("sync")
    let smaller = try e2e.json("sync", "--max-file-size", "500")
    #expect((smaller["skipped"] as? [[String: Any]] ?? []).contains { $0["path"] as? String == "src/big.js" })
    #expect(try e2e.json("status", "--max-file-size", "500")["files"] as? Int == 2)
    try e2e.gitRAG("sync")
    #expect(try e2e.json("status")["files"] as? Int == 3)
  }

  @Test func dryRunShowsWhereTheChunksComeFrom() throws {
    let e2e = try EndToEnd()
    var files: [String: String] = ["src/app.py": "def main():\n    return 1\n"]
    for i in 0..<6 {
      files["manual/fr/part\(i).rst"] = (0..<40).map { "Paragraph \($0) of part \(i) says how the sync works.\n\n" }.joined()
    }
    try e2e.repo.commit(files)
    let plan = try e2e.json("sync", "--dry-run")
    let folders = plan["folders"] as? [[String: Any]] ?? []
    let extensions = plan["extensions"] as? [[String: Any]] ?? []
    #expect(folders.first?["name"] as? String == "manual/fr/")
    #expect(extensions.first?["name"] as? String == ".rst")
    #expect((folders.first?["tokens"] as? Int ?? 0) > (folders.last?["tokens"] as? Int ?? 0))
    #expect(folders.reduce(0) { $0 + ($1["chunks"] as? Int ?? 0) } == plan["chunks_written"] as? Int)
    let text = try e2e.gitRAG("sync", "--dry-run")
    #expect(text.stdout.contains("folders (files, chunks, tokens to embed):"))
    #expect(text.stdout.contains("manual/fr/"))
  }

  @Test func searchKeepsIndentationShowsContextAndFiltersPathsFromHere() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit([
      "pkg/net/client.py":
        "class Client:\n    def connect(self, host):\n        if host:\n            return open_socket(host)\n        return None\n",
      "pkg/net/test_client.py": "def test_connect():\n    assert open_socket('h')\n",
      "docs/net.md": "# Net\n\nopen_socket opens a socket.\n",
    ])
    try e2e.gitRAG("sync")
    let plain = try e2e.gitRAG("search", "open_socket", "-k", "3")
    #expect(plain.stdout.contains("            if host:") || plain.stdout.contains("        def connect(self, host):"))
    #expect(!plain.stdout.contains("(0."), "scores are for --explain")
    #expect(try e2e.gitRAG("search", "open_socket", "--explain").stdout.contains("(0."))

    let context = try e2e.gitRAG("search", "open_socket", "-C", "1", "--path", "/pkg/net/client.py")
    #expect(
      context.stdout.contains("4:             return open_socket(host)") || context.stdout.contains("4:     return open_socket(host)"))
    #expect(context.stdout.contains("3- "))
    #expect(context.stdout.contains("5- "))

    // --files names, as each file's best chunk, the chunk the chunk view ranks first in that file.
    for query in ["open_socket", "connect host", "socket opens"] {
      let chunks = (try e2e.json("search", query, "-k", "20")["results"] as? [[String: Any]]) ?? []
      let files = (try e2e.json("search", query, "--files")["results"] as? [[String: Any]]) ?? []
      for file in files {
        let path = file["file_path"] as? String
        let best = (file["best"] as? [String: Any])?["payload"] as? [String: Any]
        let first = chunks.lazy.compactMap { $0["payload"] as? [String: Any] }.first { $0["file_path"] as? String == path }
        #expect(best?["start_line"] != nil)
        #expect(best?["start_line"] as? Int == first?["start_line"] as? Int, "\(query): \(path ?? "")")
      }
    }

    let fromHere = try e2e.gitRAG("search", "open_socket", "--files", "--json", "--path", "*.py", "--path", "!test_*", in: "pkg/net")
    let results =
      (try JSONSerialization.jsonObject(with: Data(fromHere.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]] ?? []
    #expect(results.compactMap { $0["file_path"] as? String } == ["pkg/net/client.py"])
  }

  @Test func deletingTheCurrentCollectionNeedsItsNameOrYes() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n"])
    try e2e.gitRAG("sync")
    let refused = try e2e.gitRAG("collection", "delete")
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("git rag collection delete"))
    #expect(try e2e.json("status")["exists"] as? Bool == true)
    let name = try e2e.json("status")["collection"] as? String ?? ""
    #expect(try e2e.gitRAG("collection", "delete", "--yes").status == 0)
    #expect(try e2e.json("status")["exists"] as? Bool == false)
    try e2e.gitRAG("sync")
    #expect(try e2e.gitRAG("collection", "delete", name).status == 0)
  }

  @Test func nothingToDoSendsNothingAndSearchUsesTheRecordedEmbedder() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n\nRetry budget.\n"])
    let origin = e2e.repo.url.path
    let first = try e2e.gitRAG("upload", "repo", origin, "uploaded")
    #expect(first.status == 0, "\(first.stderr)")
    let before = try requests(e2e)
    #expect(before > 0)
    let again = try e2e.gitRAG("upload", "repo", origin, "uploaded")
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try requests(e2e) == before, "a re-upload with nothing to do made a request")
    try e2e.gitRAG("sync")
    let afterSync = try requests(e2e)
    try e2e.gitRAG("sync")
    #expect(try requests(e2e) == afterSync)

    // No embedder named anywhere: the collection's own (openai, test-model) is used.
    var environment = e2e.environment
    environment["GIT_RAG_EMBEDDER"] = nil
    environment["MODEL_NAME"] = nil
    let search = try GitRAGBinary.run(["search", "retry budget"], in: e2e.repo.url, environment: environment)
    #expect(search.status == 0, "\(search.stderr)")
    #expect(search.stdout.contains("a.md"))
  }

  @Test func helpListsEverydayOptionsFirstAndCompletionCoversGitRag() throws {
    let e2e = try EndToEnd()
    let help = try e2e.gitRAG("sync", "--help").stdout
    let dryRun = help.range(of: "--dry-run")?.lowerBound
    let store = help.range(of: "--store <store>")?.lowerBound
    let runtime = help.range(of: "--runtime <runtime>")?.lowerBound
    #expect(dryRun != nil && store != nil && runtime != nil)
    if let dryRun, let store, let runtime { #expect(dryRun < store && store < runtime) }

    let manual = try e2e.gitRAG("generate-manual").stdout
    #expect(manual.components(separatedBy: "--store-path <store-path>\n").count - 1 == 1, "the common options are listed once")

    for shell in ["bash", "zsh", "fish"] {
      let script = try e2e.gitRAG("completion", shell)
      #expect(script.status == 0)
      #expect(script.stdout.contains("git-rag"))
    }
    #expect(try e2e.gitRAG("completion", "bash").stdout.contains("_git_rag()"))
    #expect(try e2e.gitRAG("completion", "fish").stdout.contains("complete -c git "))
    #expect(try e2e.gitRAG("completion", "tcsh").status == 2)
  }
}

@Suite struct StatusTellsTheTruthTests {
  @Test func statusNamesTheBranchAndHowTheIndexRelatesToHead() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n"])
    try e2e.gitRAG("sync")
    #expect(try e2e.gitRAG("status").stdout.contains("index:       at HEAD (main)"))
    try e2e.repo.git("checkout", "-q", "-b", "topic")
    try e2e.repo.commit(["b.md": "# B\n"], message: "topic work")
    try e2e.gitRAG("sync")
    try e2e.repo.git("checkout", "-q", "main")
    try e2e.repo.commit(["c.md": "# C\n"], message: "main work")
    let status = try e2e.gitRAG("status").stdout
    #expect(status.contains("HEAD:") && status.contains("(on main)"))
    #expect(status.contains("on another branch: 1 commit HEAD (main) lacks, 1 commit the index lacks"), "\(status)")

    // An uploaded collection is an upload: no staleness against this HEAD.
    let other = try TemporaryGitRepository()
    try other.commit(["z.md": "# Zeta\n\nzeta words\n"])
    #expect(try e2e.gitRAG("upload", "repo", other.url.path, "elsewhere").status == 0)
    let uploaded = try e2e.gitRAG("status", "--collection", "elsewhere").stdout
    #expect(uploaded.contains("an upload"))
    #expect(!uploaded.contains("behind"))
    let search = try e2e.gitRAG("search", "zeta", "--collection", "elsewhere")
    #expect(!search.stderr.contains("run `git rag sync`"), "\(search.stderr)")

    // Outside a repository the advice is one that works there.
    let outside = try TemporaryDirectory(prefix: "git-rag-outside")
    let away = try GitRAGBinary.run(["status"], in: outside.url, environment: e2e.environment)
    #expect(away.stdout.contains("git rag sync --dir PATH"))
  }
}
