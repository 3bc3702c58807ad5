import Foundation
import GitRAGTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct SyncEndToEndTests {
  @Test func syncIndexesThenFollowsCommitsIncrementally() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit([
      "README.md": "# Demo\n\nHow to configure the retry budget.\n", "src/app.py": "def main():\n    return parse_config()\n",
    ])
    let first = try e2e.json("sync")
    #expect(first["mode"] as? String == "full")
    // Two files plus the Python project summary (.rag_metadata/analysis.txt).
    #expect(first["files_indexed"] as? Int == 3)

    try e2e.repo.commit(["src/net.py": "def open_socket(host, port):\n    return connect_with_backoff(host, port)\n"])
    let second = try e2e.json("sync")
    #expect(second["mode"] as? String == "incremental")
    #expect(second["files_added"] as? Int == 1)
    // The new file's chunk and the refreshed Python summary.
    #expect(second["chunks_embedded"] as? Int == 2)

    let search = try e2e.json("search", "connect_with_backoff", "--files")
    let results = search["results"] as? [[String: Any]] ?? []
    #expect(results.first?["file_path"] as? String == "src/net.py")
    let stamp = search["stamp"] as? [String: Any]
    #expect(stamp?["indexed_commit"] as? String == e2e.repo.head)
    #expect(stamp?["stale"] as? Bool == false)

    let status = try e2e.json("status")
    #expect(status["files"] as? Int == 4)
    #expect(status["last_indexed_commit"] as? String == e2e.repo.head)

    // Works from a subfolder and through `git rag`.
    let fromSubfolder = try e2e.gitRAG("sync", in: "src")
    #expect(fromSubfolder.status == 0)
    #expect(fromSubfolder.stdout.contains("up to date"))
    let viaGit = try runProcess("git", ["rag", "status"], in: e2e.repo.url, environment: e2e.environment, check: false)
    #expect(viaGit.status == 0)
    #expect(viaGit.stdout.contains("chunks:"))
  }

  @Test func renamesRevertsAndBranchRoundTripsEmbedNothing() throws {
    let e2e = try EndToEnd()
    // No Python here: a Python change also refreshes the project summary, which is embedded anew.
    try e2e.repo.commit(["lib/a.js": "function alpha() {\n  return 1;\n}\n", "lib/b.md": "# Notes\n\nSome notes about beta.\n"])
    try e2e.gitRAG("sync")
    let baseline = try e2e.textsEmbedded()

    try e2e.repo.git("mv", "lib/a.js", "lib/alpha.js")
    try e2e.repo.commit(message: "rename")
    #expect(try e2e.json("sync")["files_renamed"] as? Int == 1)

    try e2e.repo.commit(["lib/b.md": "# Notes\n\nChanged.\n"], message: "edit")
    try e2e.gitRAG("sync")
    let afterEdit = try e2e.textsEmbedded()
    #expect(afterEdit > baseline)
    try e2e.repo.git("revert", "--no-edit", "HEAD")
    try e2e.gitRAG("sync")

    try e2e.repo.git("checkout", "-q", "-b", "topic")
    try e2e.repo.commit(["lib/c.js": "function gamma() {\n  return 3;\n}\n"])
    try e2e.gitRAG("sync")
    let afterTopic = try e2e.textsEmbedded()
    try e2e.repo.git("checkout", "-q", "main")
    try e2e.gitRAG("sync")
    try e2e.repo.git("checkout", "-q", "topic")
    try e2e.gitRAG("sync")
    try e2e.repo.commit(["lib/copy.js": "function alpha() {\n  return 1;\n}\n"], message: "copy")
    try e2e.gitRAG("sync")

    // The revert, the round trip and the copy embedded nothing new: only the edit and gamma did.
    #expect(afterTopic - afterEdit == 1)
    #expect(try e2e.textsEmbedded() == afterTopic)
  }

  /// GIT_RAG_TRACE=1 prints each phase with its time on stderr, in order; nothing without it.
  @Test func traceShowsThePhasesOfASync() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n\nalpha\n"])
    try e2e.gitRAG("sync")
    try e2e.repo.commit(["b.md": "# B\n\nbeta\n"])
    let traced = try e2e.gitRAG("sync", "--quiet", environment: ["GIT_RAG_TRACE": "1"])
    #expect(traced.status == 0)
    let labels = traced.stderr.split(separator: "\n").compactMap { line -> String? in
      guard line.hasPrefix("trace "), let unit = line.range(of: " ms  ") else { return nil }
      return String(line[unit.upperBound...])
    }
    #expect(
      labels == [
        "main", "arguments parsed", "repository opened", "lock acquired", "store opened, embedder primed",
        "planned: incremental", "indexed 1 files", "removed old versions", "synced", "exit",
      ])
    try e2e.repo.commit(["c.md": "# C\n\ngamma\n"])
    let quiet = try e2e.gitRAG("sync", "--quiet")
    #expect(quiet.status == 0 && quiet.stderr.isEmpty)
  }

  @Test func badInputGetsOneLineAndNonZeroExit() throws {
    let e2e = try EndToEnd()
    let notRepo = try TemporaryDirectory()
    let outside = try GitRAGBinary.run(["sync"], in: notRepo.url, environment: e2e.environment)
    #expect(outside.status != 0)
    #expect(outside.stderr.contains("Not a git repository"))
    #expect(outside.stderr.split(separator: "\n").count == 1)

    let unborn = try e2e.gitRAG("sync")
    #expect(unborn.status != 0)
    #expect(unborn.stderr.lowercased().contains("nothing committed"))

    try e2e.repo.commit(["a.txt": "hello world\n"])
    let missing = try e2e.gitRAG("search", "hello", "--collection", "nope")
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("Collection nope not found"))

    let badEmbedder = try e2e.gitRAG("sync", "--embedder", "bogus")
    #expect(badEmbedder.status == 2)
    // `sync` is parsed on its own first; what that parse refuses gets the full command's wording.
    let badFlag = try e2e.gitRAG("sync", "--bogus")
    #expect(badFlag.status == 2)
    #expect(badFlag.stderr.contains("Unknown option '--bogus'") && badFlag.stderr.contains("Usage: git-rag sync"))
    let help = try e2e.gitRAG("sync", "--help")
    #expect(help.status == 0 && help.stdout.contains("USAGE: git-rag sync"))

    #expect(try e2e.gitRAG("sync", "--embedder", "none").status == 0)
    let mismatch = try e2e.gitRAG("sync")
    #expect(mismatch.status != 0)
    #expect(mismatch.stderr.contains("--reindex"))
    #expect(mismatch.stderr.contains("none"))
    #expect(try e2e.gitRAG("sync", "--reindex").status == 0)

    // A store file that is not a database.
    let storeFile = e2e.repo.url.appendingPathComponent(".git/rag/\(e2e.repo.url.lastPathComponent).sqlite")
    try Data("this is not sqlite".utf8).write(to: storeFile)
    for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: storeFile.path + suffix) }
    let corrupt = try e2e.gitRAG("search", "hello")
    #expect(corrupt.status != 0)
    #expect(corrupt.stderr.split(separator: "\n").count == 1)
    #expect(!corrupt.stderr.contains("Fatal"))
  }

  @Test func aSyncKilledMidwayLeavesTheOldCommitAndTheNextConverges() throws {
    let e2e = try EndToEnd(latencyMilliseconds: 150)
    var files: [String: String] = [:]
    for i in 0..<40 { files["f\(i).txt"] = "file number \(i)\n" + String(repeating: "line \(i) of text\n", count: 30) }
    try e2e.repo.commit(["seed.txt": "seed\n"])
    try e2e.gitRAG("sync")
    let seeded = e2e.repo.head
    try e2e.repo.commit(files, message: "many files")

    // Small requests, one at a time, so the sync is still embedding when it is killed.
    var env = e2e.environment
    env["GIT_RAG_EMBED_BATCH"] = "1"
    env["GIT_RAG_EMBED_CONCURRENCY"] = "1"
    let embedded = try e2e.textsEmbedded()
    let process = try SpawnedProcess(GitRAGBinary.url.path, ["sync", "--quiet"], in: e2e.repo.url, environment: env)
    // Killed once it has embedded a few of the 40 files (one request of 150 ms each).
    #expect(try eventually(timeout: 60) { try e2e.textsEmbedded() >= embedded + 3 })
    process.signal(SIGKILL)
    _ = process.wait()

    let status = try e2e.json("status")
    #expect(status["last_indexed_commit"] as? String == seeded)

    // The lock of the killed process is stale: the next sync takes it and converges.
    let after = try e2e.json("sync")
    #expect(after["target"] as? String == e2e.repo.head)
    let fresh = try e2e.json("sync", "--collection", "fresh")
    #expect(try e2e.json("status")["chunks"] as? Int == (try e2e.json("status", "--collection", "fresh")["chunks"] as? Int))
    #expect(fresh["chunks_embedded"] as? Int == 0)
  }

  @Test func aSecondSyncWhileOneRunsAsksForOneMoreRound() throws {
    let e2e = try EndToEnd(latencyMilliseconds: 100)
    var files: [String: String] = [:]
    for i in 0..<40 { files["f\(i).txt"] = "file \(i)\n" }
    try e2e.repo.commit(files)
    var env = e2e.environment
    env["GIT_RAG_EMBED_BATCH"] = "1"
    env["GIT_RAG_EMBED_CONCURRENCY"] = "1"
    let process = try SpawnedProcess(GitRAGBinary.url.path, ["sync", "--json"], in: e2e.repo.url, environment: env)
    // It holds the lock once it is embedding (one file per request of 100 ms).
    #expect(try eventually(timeout: 60) { try e2e.textsEmbedded() >= 2 })
    try e2e.repo.commit(["late.txt": "committed while the first sync ran\n"])
    let second = try e2e.gitRAG("sync")
    #expect(second.status == 0)
    #expect(second.stderr.contains("go round once more"))
    let output = process.stdout.readDataToEndOfFile()
    _ = process.wait()
    let report = try JSONSerialization.jsonObject(with: output) as? [String: Any]
    #expect(report?["rounds"] as? Int == 2)
    #expect(try e2e.json("status")["last_indexed_commit"] as? String == e2e.repo.head)
  }
}
