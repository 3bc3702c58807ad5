import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// The sync invariant (DESIGN.md) as a property: after any sequence of commits, renames,
/// deletions, branch switches, rebases and interrupted syncs, an incremental sync leaves the
/// store with exactly the chunks a fresh full index of HEAD produces.
@Suite(.serialized) struct SyncInvariantTests {
  static var caseCount: Int {
    Int(ProcessInfo.processInfo.environment["GIT_RAG_PROPERTY_CASES"] ?? "") ?? 200
  }

  @Test func incrementalSyncEqualsFullIndexOverRandomHistories() async throws {
    let server = try await EmbeddingServer.start()
    let embedder = server.embedder()
    let seedBase = UInt64(ProcessInfo.processInfo.environment["GIT_RAG_PROPERTY_SEED"] ?? "") ?? 20_261_125
    for caseIndex in 0..<Self.caseCount {
      let seed = seedBase &+ UInt64(caseIndex)
      try await runCase(seed: seed, embedder: embedder)
    }
  }

  private func runCase(seed: UInt64, embedder: any Embedder) async throws {
    var random = SeededRandom(seed: seed)
    let repo = try TemporaryGitRepository()
    let storeFolder = try TemporaryDirectory(prefix: "git-rag-store")
    let store = SQLiteStore(directory: storeFolder.url)
    let cache = try EmbeddingCache(url: storeFolder.url.appendingPathComponent("cache.sqlite"))
    var history = HistoryBuilder(repo: repo)
    try history.seed(&random)

    var incremental = SyncEngine.forTests(store: store, embedder: embedder, cache: cache, collection: "incremental")
    let steps = Int.random(in: 3...6, using: &random)
    var log: [String] = []
    for step in 0..<steps {
      log.append(try history.randomStep(&random))
      let repository = try Repository(path: repo.url)

      // Sometimes the sync dies part-way; the index must keep its old commit and still converge.
      if Int.random(in: 0..<4, using: &random) == 0 {
        let before = try await store.collectionExists("incremental") ? try await store.metadata("incremental")?.lastIndexedCommit : nil
        let failAt = ["moves", "upsert", "delete", "metadata"].randomElement(using: &random)!
        var failing = incremental
        failing.faultInjection = { stage in if stage == failAt { throw InjectedFault(stage: stage) } }
        do {
          _ = try await failing.sync(repository: repository)
        } catch is InjectedFault {
          let after = try await store.collectionExists("incremental") ? try await store.metadata("incremental")?.lastIndexedCommit : nil
          #expect(after == before, "seed \(seed) step \(step): an interrupted sync moved last_indexed_commit")
        }
        log.append("interrupted at \(failAt)")
      }
      incremental.options.collection = "incremental"
      _ = try await incremental.sync(repository: repository)

      let full = SyncEngine.forTests(store: store, embedder: embedder, cache: cache, collection: "full")
      if try await store.collectionExists("full") { try await store.deleteCollection("full") }
      _ = try await full.sync(repository: repository)

      let got = try await StoreSnapshot.rows(store, "incremental")
      let want = try await StoreSnapshot.rows(store, "full")
      let head = try repository.head().hex
      #expect(try await store.metadata("incremental")?.lastIndexedCommit == head)
      if got != want {
        let missing = want.subtracting(got).map(\.description).sorted()
        let extra = got.subtracting(want).map(\.description).sorted()
        Issue.record("seed \(seed) step \(step) after \(log): missing \(missing) extra \(extra)")
        return
      }
    }
  }
}

struct InjectedFault: Error { let stage: String }

/// Makes random but realistic histories with the real git.
struct HistoryBuilder {
  let repo: TemporaryGitRepository
  private var counter = 0
  private static let folders = ["", "src/", "src/util/", "docs/", "vendor/", "tests/"]
  private static let words = ["alpha", "beta", "parse", "config", "request", "session", "retry", "token", "index", "commit", "render", "cache"]

  init(repo: TemporaryGitRepository) { self.repo = repo }

  mutating func seed(_ random: inout SeededRandom) throws {
    var files: [String: String] = [:]
    for _ in 0..<Int.random(in: 3...8, using: &random) {
      let (path, text) = newFile(&random)
      files[path] = text
    }
    try repo.commit(files, message: "initial")
  }

  func trackedFiles() throws -> [String] {
    try repo.git("ls-files").split(separator: "\n").map(String.init).filter { !$0.isEmpty }
  }

  mutating func newFile(_ random: inout SeededRandom) -> (String, String) {
    counter += 1
    let folder = Self.folders.randomElement(using: &random)!
    let kind = Int.random(in: 0..<10, using: &random)
    switch kind {
    case 0: return ("\(folder)notes\(counter).md", markdown(&random))
    case 1: return ("\(folder)data\(counter).txt", words(&random, lines: Int.random(in: 1...40, using: &random)))
    default: return ("\(folder)module\(counter).py", python(&random))
    }
  }

  func words(_ random: inout SeededRandom, lines: Int) -> String {
    (0..<lines).map { _ in (0..<Int.random(in: 1...8, using: &random)).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ") }
      .joined(separator: "\n") + "\n"
  }

  func python(_ random: inout SeededRandom) -> String {
    var text = "import os\n\n"
    for i in 0..<Int.random(in: 1...5, using: &random) {
      let name = Self.words.randomElement(using: &random)!
      text += "def \(name)_\(i)(x):\n    \"\"\"\(words(&random, lines: 1).trimmingCharacters(in: .newlines))\"\"\"\n"
      text += words(&random, lines: Int.random(in: 1...6, using: &random)).split(separator: "\n").map { "    # \($0)" }.joined(separator: "\n")
      text += "\n    return x\n\n"
    }
    return text
  }

  func markdown(_ random: inout SeededRandom) -> String {
    var text = "# Title\n\n"
    for i in 0..<Int.random(in: 1...4, using: &random) {
      text += "## Section \(i)\n\n" + words(&random, lines: Int.random(in: 1...6, using: &random)) + "\n"
    }
    return text
  }

  /// Applies one random change and returns what it did.
  mutating func randomStep(_ random: inout SeededRandom) throws -> String {
    let tracked = try trackedFiles()
    let pick = { (random: inout SeededRandom) in tracked.randomElement(using: &random) }
    switch Int.random(in: 0..<14, using: &random) {
    case 0, 1:
      let (path, text) = newFile(&random)
      try repo.commit([path: text], message: "add \(path)")
      return "add \(path)"
    case 2, 3:
      guard let path = pick(&random) else { return "noop" }
      let old = (try? String(contentsOf: repo.url.appendingPathComponent(path), encoding: .utf8)) ?? ""
      try repo.commit([path: old + words(&random, lines: Int.random(in: 1...3, using: &random))], message: "edit \(path)")
      return "edit \(path)"
    case 4:
      guard let path = pick(&random), tracked.count > 1 else { return "noop" }
      try repo.git("rm", "-q", path)
      try repo.commit(message: "delete \(path)")
      return "delete \(path)"
    case 5, 6:
      guard let path = pick(&random) else { return "noop" }
      counter += 1
      let folder = Self.folders.randomElement(using: &random)!
      let target = "\(folder)renamed\(counter)-\((path as NSString).lastPathComponent)"
      if !folder.isEmpty { try FileManager.default.createDirectory(at: repo.url.appendingPathComponent(folder), withIntermediateDirectories: true) }
      try repo.git("mv", path, target)
      if Int.random(in: 0..<2, using: &random) == 0 {
        let old = String(decoding: try Data(contentsOf: repo.url.appendingPathComponent(target)), as: UTF8.self)
        try repo.write(target, old + "# tweak\n")
        try repo.git("add", target)
        try repo.commit(message: "rename+edit")
        return "rename+edit \(path) -> \(target)"
      }
      try repo.commit(message: "rename")
      return "rename \(path) -> \(target)"
    case 7:
      counter += 1
      var bytes = Data("binary\u{0}data".utf8)
      bytes.append(contentsOf: (0..<64).map { _ in UInt8.random(in: 0...255, using: &random) })
      try repo.write("bin\(counter).dat", data: bytes)
      try repo.git("add", "bin\(counter).dat")
      try repo.commit(message: "binary")
      return "binary"
    case 8:
      counter += 1
      try repo.commit(["big\(counter).txt": String(repeating: "large line of text\n", count: 400)], message: "large")
      return "large"
    case 9:
      counter += 1
      let secret = Int.random(in: 0..<2, using: &random) == 0
        ? ["config\(counter).py": "AWS_KEY = \"AKIAIOSFODNN7EXAMPLE\"\n"] : [".env": "TOKEN=abc\n"]
      try repo.commit(secret, message: "secret")
      return "secret"
    case 10:
      // A branch with its own commits, merged back (or abandoned), then back on main.
      counter += 1
      let branch = "topic\(counter)"
      try repo.git("checkout", "-q", "-b", branch)
      let (path, text) = newFile(&random)
      try repo.commit([path: text], message: "on \(branch)")
      try repo.git("checkout", "-q", "main")
      if Int.random(in: 0..<2, using: &random) == 0 {
        try repo.git("merge", "-q", "--no-ff", "-m", "merge \(branch)", branch)
        return "merge \(branch)"
      }
      try repo.git("checkout", "-q", branch)
      return "switch to \(branch)"
    case 11:
      guard let path = pick(&random) else { return "noop" }
      let old = (try? String(contentsOf: repo.url.appendingPathComponent(path), encoding: .utf8)) ?? ""
      try repo.write(path, old + "amended\n")
      try repo.git("add", path)
      try repo.git("commit", "-q", "--amend", "-m", "amended")
      return "amend \(path)"
    case 12:
      let parents = try repo.git("rev-list", "--count", "HEAD")
      guard (Int(parents) ?? 0) > 1, try repo.git("rev-list", "--parents", "-n", "1", "HEAD").split(separator: " ").count == 2 else { return "noop" }
      try repo.git("revert", "--no-edit", "HEAD")
      return "revert"
    default:
      // Rewrite history: drop the last commit (as a rebase or reset would), then a new one.
      let count = Int(try repo.git("rev-list", "--count", "HEAD")) ?? 0
      guard count > 1 else { return "noop" }
      try repo.git("reset", "-q", "--hard", "HEAD~1")
      let (path, text) = newFile(&random)
      try repo.commit([path: text], message: "rewritten")
      return "rewrite"
    }
  }
}
