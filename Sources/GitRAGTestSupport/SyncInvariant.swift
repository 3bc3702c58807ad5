import Embedding
import Foundation
import Git
import GitRAGCore
import Indexing
import Store
import Testing

/// Checks the sync invariant on one seeded random history: after every step, an incremental sync
/// of `store` equals a fresh full index of HEAD (chunks, lines, text, blob and vector).
public func checkSyncInvariant(seed: UInt64, embedder: any Embedder, makeStore: (URL) throws -> any VectorStore) async throws {
  var random = SeededRandom(seed: seed)
  let incrementalName = "inc-\(seed)-\(UUID().uuidString.prefix(6).lowercased())"
  let fullName = "full-\(seed)-\(UUID().uuidString.prefix(6).lowercased())"
  let repo = try TemporaryGitRepository()
  let storeFolder = try TemporaryDirectory(prefix: "git-rag-store")
  let store = try makeStore(storeFolder.url)
  let cache = try EmbeddingCache(url: storeFolder.url.appendingPathComponent("cache.sqlite"))
  var history = HistoryBuilder(repo: repo)
  try history.seed(&random)

  var incremental = SyncEngine.forTests(store: store, embedder: embedder, cache: cache, collection: incrementalName)
  let steps = Int.random(in: 3...6, using: &random)
  var log: [String] = []
  for step in 0..<steps {
    log.append(try history.randomStep(&random))

    // Sometimes the sync dies part-way (now and then twice in a row, towards two commits); the
    // index must keep its old commit and still converge.
    var interruptions = Int.random(in: 0..<4, using: &random) == 0 ? 1 : 0
    if interruptions == 1, Int.random(in: 0..<3, using: &random) == 0 { interruptions = 2 }
    for _ in 0..<interruptions {
      let repository = try Repository(path: repo.url)
      let before = try await store.collectionExists(incrementalName) ? try await store.metadata(incrementalName)?.lastIndexedCommit : nil
      let failAt = ["moves", "upsert", "delete", "metadata"].randomElement(using: &random)!
      var failing = incremental
      failing.faultInjection = { stage in if stage == failAt { throw InjectedFault(stage: stage) } }
      do {
        _ = try await failing.sync(repository: repository)
      } catch is InjectedFault {
        let after = try await store.collectionExists(incrementalName) ? try await store.metadata(incrementalName)?.lastIndexedCommit : nil
        #expect(after == before, "seed \(seed) step \(step): an interrupted sync moved last_indexed_commit")
      }
      log.append("interrupted at \(failAt)")
      // Often the history moves on before the next sync (a revert, a deletion of what the
      // interrupted sync added): the next sync must still clean up what it left half-written.
      if Bool.random(using: &random) { log.append(try history.randomStep(&random)) }
    }
    // Sometimes a setting that changes what is indexed differs from the last sync's.
    if Int.random(in: 0..<4, using: &random) == 0 {
      if Bool.random(using: &random) {
        incremental.options.maxFileSize = [1024, 4096, 16_384].randomElement(using: &random)!
        log.append("max file size \(incremental.options.maxFileSize)")
      } else {
        incremental.options.chunking.maxCharacters = [200, 300, 500].randomElement(using: &random)!
        log.append("max chunk \(incremental.options.chunking.maxCharacters)")
      }
    }
    let current = try Repository(path: repo.url)
    incremental.options.collection = incrementalName
    _ = try await incremental.sync(repository: current)

    var full = SyncEngine.forTests(store: store, embedder: embedder, cache: cache, collection: fullName)
    full.options.maxFileSize = incremental.options.maxFileSize
    full.options.chunking.maxCharacters = incremental.options.chunking.maxCharacters
    if try await store.collectionExists(fullName) { try await store.deleteCollection(fullName) }
    _ = try await full.sync(repository: current)

    let got = try await StoreSnapshot.rows(store, incrementalName)
    let want = try await StoreSnapshot.rows(store, fullName)
    let head = try current.head().hex
    #expect(try await store.metadata(incrementalName)?.lastIndexedCommit == head)
    if got != want {
      let missing = want.subtracting(got).map(\.description).sorted()
      let extra = got.subtracting(want).map(\.description).sorted()
      Issue.record("seed \(seed) step \(step) after \(log): missing \(missing) extra \(extra)")
      return
    }
  }
  try? await store.deleteCollection(incrementalName)
  try? await store.deleteCollection(fullName)
}

public struct InjectedFault: Error {
  public let stage: String
  public init(stage: String) { self.stage = stage }
}

/// Makes random but realistic histories with the real git.
public struct HistoryBuilder {
  let repo: TemporaryGitRepository
  private var counter = 0
  private static let folders = ["", "src/", "src/util/", "docs/", "vendor/", "tests/"]
  private static let attributeRules = [
    "*.md -rag", "docs/** -rag", "*.txt -rag", "big*.txt rag", "module*.py -rag", "*.py rag", "util/** -rag", "*.md rag=false",
  ]
  private static let words = [
    "alpha", "beta", "parse", "config", "request", "session", "retry", "token", "index", "commit", "render", "cache",
  ]

  public init(repo: TemporaryGitRepository) { self.repo = repo }

  public mutating func seed(_ random: inout SeededRandom) throws {
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
    (0..<lines).map { _ in
      (0..<Int.random(in: 1...8, using: &random)).map { _ in Self.words.randomElement(using: &random)! }.joined(separator: " ")
    }
    .joined(separator: "\n") + "\n"
  }

  func python(_ random: inout SeededRandom) -> String {
    var text = "import os\n\n"
    for i in 0..<Int.random(in: 1...5, using: &random) {
      let name = Self.words.randomElement(using: &random)!
      text += "def \(name)_\(i)(x):\n    \"\"\"\(words(&random, lines: 1).trimmingCharacters(in: .newlines))\"\"\"\n"
      text += words(&random, lines: Int.random(in: 1...6, using: &random)).split(separator: "\n").map { "    # \($0)" }.joined(
        separator: "\n")
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
  public mutating func randomStep(_ random: inout SeededRandom) throws -> String {
    let tracked = try trackedFiles()
    let pick = { (random: inout SeededRandom) in tracked.randomElement(using: &random) }
    switch Int.random(in: 0..<16, using: &random) {
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
      if !folder.isEmpty {
        try FileManager.default.createDirectory(at: repo.url.appendingPathComponent(folder), withIntermediateDirectories: true)
      }
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
      let secret =
        Int.random(in: 0..<2, using: &random) == 0
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
      guard (Int(parents) ?? 0) > 1, try repo.git("rev-list", "--parents", "-n", "1", "HEAD").split(separator: " ").count == 2 else {
        return "noop"
      }
      try repo.git("revert", "--no-edit", "HEAD")
      return "revert"
    case 13, 14:
      // A `rag`/`-rag` rule added to or removed from a `.gitattributes`, at the top or in a folder.
      let folder = ["", "", "src/", "docs/"].randomElement(using: &random)!
      let path = "\(folder).gitattributes"
      let file = repo.url.appendingPathComponent(path)
      let old = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
      if !old.isEmpty, Int.random(in: 0..<3, using: &random) == 0 {
        try repo.git("rm", "-q", path)
        try repo.commit(message: "drop \(path)")
        return "drop \(path)"
      }
      let rule = Self.attributeRules.randomElement(using: &random)!
      if !folder.isEmpty {
        try FileManager.default.createDirectory(at: repo.url.appendingPathComponent(folder), withIntermediateDirectories: true)
      }
      try repo.commit([path: old + rule + "\n"], message: "attributes")
      return "\(path) += \(rule)"
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

/// One comparable row per stored chunk: everything the invariant says must match.
public struct ChunkRow: Hashable, CustomStringConvertible {
  var path: String
  var start: Int
  var end: Int
  var content: String
  var blob: String
  var vector: [Float]?

  public var description: String { "\(path):\(start)-\(end)@\(blob.prefix(7)) \(content.prefix(30).debugDescription)" }
}

public enum StoreSnapshot {
  public static func rows(_ store: any VectorStore, _ collection: String) async throws -> Set<ChunkRow> {
    let paths = Array(try await store.inventory(collection).keys)
    let points = try await store.points(collection, filePaths: paths)
    return Set(
      points.map {
        ChunkRow(
          path: $0.payload.filePath, start: $0.payload.startLine, end: $0.payload.endLine,
          content: $0.payload.content, blob: $0.payload.fileHash,
          // Stores may renormalise (Qdrant does for cosine): equal up to float rounding.
          vector: $0.vector.map { $0.map { ($0 * 10_000).rounded() / 10_000 } })
      })
  }
}

/// A small deterministic random generator (SplitMix64), so every case is reproducible from its seed.
public struct SeededRandom: RandomNumberGenerator {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension SyncEngine {
  /// An engine writing to `collection` of `store`, with small files and slabs so tests are quick.
  public static func forTests(
    store: any VectorStore, embedder: any Embedder, cache: EmbeddingCache?, collection: String, maxFileSize: Int = 4096
  ) -> SyncEngine {
    var options = SyncOptions(collection: collection)
    options.maxFileSize = maxFileSize
    options.slabChunks = 16
    options.upsertBatch = 7
    options.chunking.maxCharacters = 300
    return SyncEngine(store: store, embedder: embedder, cache: cache, options: options)
  }
}
