import Foundation
import GRDB
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@Suite struct SQLiteStoreTests {
  @Test func contract() async throws {
    let folder = try TemporaryDirectory()
    try await runVectorStoreContract { SQLiteStore(directory: folder.url.appendingPathComponent("rag")) }
  }

  @Test func oneWALFilePerCollection() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url.appendingPathComponent("rag"))
    #expect(try await store.listCollections().isEmpty, "a missing folder is an empty store")
    try await store.createCollection("main", metadata: contractMetadata(dimension: 2))
    try await store.upsert("main", points: [contractPoint("a.py", 0, "x = 1", vector: [1, 0])])
    let file = folder.url.appendingPathComponent("rag/main.sqlite")
    #expect(try store.fileURL("main") == file)
    #expect(store.location == "sqlite:\(folder.url.appendingPathComponent("rag").path)")
    let header = try Data(contentsOf: file).prefix(20)
    #expect(String(decoding: header.prefix(15), as: UTF8.self) == "SQLite format 3")
    #expect(header[18] == 2 && header[19] == 2, "WAL mode is recorded in the file header")
    let journal = try await DatabaseQueue(path: file.path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
    #expect(journal == "wal")
    #expect(try await store.listCollections() == ["main"])
    let stray = try FileManager.default.contentsOfDirectory(atPath: folder.url.appendingPathComponent("rag").path)
      .filter { $0.hasSuffix(".tmp") }
    #expect(stray.isEmpty, "creation stages in a temporary file and renames it")
  }

  @Test func collectionNamesAreValidated() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    for bad in ["", "../escape", "a/b", ".hidden", "with space", "semi;colon", "ümlaut", String(repeating: "x", count: 129)] {
      await expectUserError(["Invalid collection name '\(bad)'"]) {
        try await store.createCollection(bad, metadata: contractMetadata(dimension: 2))
      }
      await expectUserError(["Invalid collection name"]) { _ = try await store.collectionExists(bad) }
    }
    for good in ["main", "my-repo_v2.1", "A", "x.y.z"] {
      try await store.createCollection(good, metadata: contractMetadata(dimension: 2))
    }
    #expect(try await store.listCollections() == ["A", "main", "my-repo_v2.1", "x.y.z"])
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
    #expect(files.sorted() == ["A.sqlite", "main.sqlite", "my-repo_v2.1.sqlite", "x.y.z.sqlite"])
  }

  @Test func aCorruptFileIsNamedWithTheWayOut() async throws {
    let folder = try TemporaryDirectory()
    let file = try folder.write("broken.sqlite", String(repeating: "this is not a database\n", count: 300))
    let store = SQLiteStore(directory: folder.url)
    #expect(try await store.collectionExists("broken"))
    await expectUserError([file.path, "--reindex", "git rag collection delete broken"]) { _ = try await store.count("broken") }
    await expectUserError([file.path]) {
      _ = try await store.keywordSearch("broken", query: KeywordQuery(text: "x"), limit: 1, filter: .none)
    }
    // A SQLite file git-rag did not write is refused the same way.
    _ = try await DatabaseQueue(path: folder.url.appendingPathComponent("foreign.sqlite").path).write { db in
      try db.execute(sql: "CREATE TABLE t (x)")
    }
    await expectUserError(["foreign.sqlite", "--reindex"]) { _ = try await store.count("foreign") }
    // The way out works without opening the file.
    try await store.deleteCollection("broken")
    #expect(!FileManager.default.fileExists(atPath: file.path))
  }

  @Test func aLockedDatabaseFailsClearlyAfterTheBusyTimeout() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url, busyTimeout: 0.2)
    try await store.createCollection("main", metadata: contractMetadata(dimension: 2))
    let path = try store.fileURL("main").path
    #expect(try await store.count("main") == 0)
    // Another connection holds the write lock until released.
    let other = try DatabaseQueue(path: path)
    let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      try? other.inTransaction(.immediate) { _ in
        locked.signal()
        release.wait()
        return .rollback
      }
    }
    locked.wait()
    await expectUserError([path, "locked by another process"]) {
      try await store.upsert("main", points: [contractPoint("a.py", 0, "x = 1", vector: [1, 0])])
    }
    #expect(try await store.count("main") == 0, "readers are not blocked by a writer in WAL mode")
    release.signal()
    try await store.upsert("main", points: [contractPoint("a.py", 0, "x = 1", vector: [1, 0])])
    #expect(try await store.count("main") == 1)
  }

  @Test func aReopenedStoreSeesTheDataAndWritesFromOtherInstancesRetireCachedVectors() async throws {
    let folder = try TemporaryDirectory()
    let first = SQLiteStore(directory: folder.url)
    try await first.createCollection("main", metadata: contractMetadata(dimension: 3, commit: "abc"))
    let a = contractPoint("a.py", 0, "def readConfig(): pass", vector: contractUnit(3, 0))
    try await first.upsert("main", points: [a])
    #expect(try await first.vectorSearch("main", vector: contractUnit(3, 1), limit: 1, filter: .none).first?.payload == a.payload)

    let second = SQLiteStore(directory: folder.url)
    #expect(try await second.count("main") == 1)
    #expect(try await second.metadata("main")?.lastIndexedCommit == "abc")
    #expect(
      try await second.keywordSearch("main", query: KeywordQuery(text: "config"), limit: 1, filter: .none).first?.payload == a.payload)
    let b = contractPoint("b.py", 0, "def other(): pass", vector: contractUnit(3, 1))
    try await second.upsert("main", points: [b])

    // `first` cached its vectors before `second` wrote; the generation check reloads them.
    #expect(try await first.vectorSearch("main", vector: contractUnit(3, 1), limit: 1, filter: .none).first?.payload == b.payload)
    try await second.deleteFiles("main", paths: ["b.py"])
    #expect(try await first.vectorSearch("main", vector: contractUnit(3, 1), limit: 5, filter: .none).map(\.payload) == [a.payload])
    // Deleted by another instance: the cached handle notices.
    try await second.deleteCollection("main")
    await expectUserError(["main", "not found"]) { _ = try await first.count("main") }
  }

  @Test func vectorSearchIsExactCosine() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    let dimension = 37  // not a multiple of the SIMD width: exercises the tail loop
    try await store.createCollection("main", metadata: contractMetadata(dimension: dimension))
    var generator = SplitMix64(seed: 7)
    var points: [Point] = []
    for i in 0..<500 {
      // Not normalised, on purpose: the store must not assume unit vectors.
      let vector = (0..<dimension).map { _ in Float(generator.nextDouble() * 2 - 1) * Float(1 + i % 5) }
      points.append(
        contractPoint("dir\(i % 7)/file\(i).py", 0, "value_\(i) = \(i)", language: i % 3 == 0 ? "go" : "python", vector: vector))
    }
    try await store.upsert("main", points: points)
    for round in 0..<5 {
      let query = (0..<dimension).map { _ in Float(generator.nextDouble() * 2 - 1) }
      let filter = round % 2 == 0 ? SearchFilter.none : SearchFilter(pathGlob: "dir3/*", language: "python")
      let expected =
        points
        .filter { filter.pathGlob == nil || ($0.payload.filePath.hasPrefix("dir3/") && $0.payload.language == "python") }
        .map { (path: $0.payload.filePath, score: cosine(query, $0.vector!)) }
        .sorted { $0.score > $1.score }
        .prefix(10)
      let hits = try await store.vectorSearch("main", vector: query, limit: 10, filter: filter)
      #expect(hits.map(\.payload.filePath) == expected.map(\.path))
      for (hit, want) in zip(hits, expected) { #expect(abs(hit.score - want.score) < 1e-4) }
    }
    await expectUserError(["36", "37"]) {
      _ = try await store.vectorSearch("main", vector: [Float](repeating: 1, count: 36), limit: 1, filter: .none)
    }
    await expectUserError(["37", "2"]) { try await store.upsert("main", points: [contractPoint("x.py", 0, "x", vector: [1, 2])]) }
  }

  @Test func vectorSearchIsExactOverSlicesAndTies() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    let dimension = 1000  // 1,100 rows × 1,000: large enough to scan in parallel slices
    try await store.createCollection("main", metadata: contractMetadata(dimension: dimension))
    var generator = SplitMix64(seed: 11)
    var vectors: [[Float]] = []
    for i in 0..<1100 {
      // Every 10th row repeats an earlier vector: exact ties.
      vectors.append(i % 10 == 9 ? vectors[i - 5] : (0..<dimension).map { _ in Float(generator.nextDouble() * 2 - 1) })
    }
    for start in stride(from: 0, to: vectors.count, by: 550) {
      let points = (start..<(start + 550)).map { contractPoint("f\($0).py", 0, "x\($0) = 1", vector: vectors[$0]) }
      try await store.upsert("main", points: points)
    }
    for round in 0..<2 {
      // Queries close to stored rows, so near-ties at the top are likely.
      let base = vectors[round * 97 + 4]
      let query = base.map { $0 + Float(generator.nextDouble() - 0.5) * 0.05 }
      let expected = vectors.enumerated().map { (index: $0.offset, score: cosine(query, $0.element)) }
        .sorted { $0.score > $1.score }.prefix(20)
      let hits = try await store.vectorSearch("main", vector: query, limit: 20, filter: .none)
      #expect(hits.count == 20)
      for (hit, want) in zip(hits, expected) { #expect(abs(hit.score - want.score) < 1e-5) }
      #expect(hits.first?.payload.filePath == "f\(expected.first!.index).py")
    }
  }

  @Test func aNewStoreInstanceMapsTheMatrixFileAndNeverUsesAStaleOne() async throws {
    let folder = try TemporaryDirectory()
    let dimension = 19
    var generator = SplitMix64(seed: 5)
    func vector() -> [Float] { (0..<dimension).map { _ in Float(generator.nextDouble() * 2 - 1) } }
    let writer = SQLiteStore(directory: folder.url)
    try await writer.createCollection("main", metadata: contractMetadata(dimension: dimension))
    var points = (0..<300).map {
      contractPoint("dir\($0 % 4)/f\($0).py", 0, "v\($0) = 1", language: $0 % 2 == 0 ? "python" : "go", vector: vector())
    }
    try await writer.upsert("main", points: points)
    let query = vector()
    let filter = SearchFilter(pathGlob: "dir1/*", language: "go")
    let expected = try await writer.vectorSearch("main", vector: query, limit: 8, filter: .none)
    let expectedFiltered = try await writer.vectorSearch("main", vector: query, limit: 8, filter: filter)
    let matrixFile = folder.url.appendingPathComponent("main.sqlite-vectors").path
    #expect(FileManager.default.fileExists(atPath: matrixFile))

    // A fresh instance (as a new `git rag search` process) reads the file: same hits, same scores.
    let modified = try FileManager.default.attributesOfItem(atPath: matrixFile)[.modificationDate] as? Date
    let reader = SQLiteStore(directory: folder.url)
    #expect(try await reader.vectorSearch("main", vector: query, limit: 8, filter: .none) == expected)
    #expect(try await reader.vectorSearch("main", vector: query, limit: 8, filter: filter) == expectedFiltered)
    #expect(try FileManager.default.attributesOfItem(atPath: matrixFile)[.modificationDate] as? Date == modified)

    // A write moves the generation: the old file is not used, a new one replaces it.
    let best = try #require(expected.first)
    try await writer.deleteFiles("main", paths: [best.payload.filePath])
    let afterDelete = try await SQLiteStore(directory: folder.url).vectorSearch("main", vector: query, limit: 8, filter: .none)
    #expect(
      afterDelete.map(\.payload.filePath) == Array(expected.dropFirst().map(\.payload.filePath)) + [afterDelete.last!.payload.filePath])

    // A damaged file is ignored, not trusted.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: matrixFile))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: matrixFile))
    #expect(try await SQLiteStore(directory: folder.url).vectorSearch("main", vector: query, limit: 8, filter: .none) == afterDelete)

    // A re-created collection is another file: its predecessor's matrix never answers for it.
    try await writer.deleteCollection("main")
    #expect(!FileManager.default.fileExists(atPath: matrixFile))
    try await writer.createCollection("main", metadata: contractMetadata(dimension: dimension))
    points = Array(points.prefix(3))
    try await writer.upsert("main", points: points)
    let recreated = try await SQLiteStore(directory: folder.url).vectorSearch("main", vector: query, limit: 8, filter: .none)
    #expect(Set(recreated.map(\.payload.filePath)) == Set(points.map(\.payload.filePath)))
  }

  @Test func aChangedTokenizerFingerprintRebuildsTheKeywordIndex() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    try await store.createCollection("main", metadata: contractMetadata(dimension: 0))
    let a = contractPoint("src/retry.py", 0, "def backoffDelay(attempt): pass", vector: nil)
    try await store.upsert("main", points: [a])
    // Simulate an index built by another tokenizer version: stale fingerprint, no terms.
    try await DatabaseQueue(path: store.fileURL("main").path).write { db in
      try db.execute(sql: "INSERT INTO fts (fts) VALUES ('delete-all')")
      try db.execute(sql: "UPDATE store_state SET value = 'old' WHERE key = 'fts_terms'")
    }
    let reopened = SQLiteStore(directory: folder.url)
    let hits = try await reopened.keywordSearch("main", query: KeywordQuery(text: "backoff delay"), limit: 5, filter: .none)
    #expect(hits.map(\.payload) == [a.payload])
    // And deletes work against the rebuilt terms.
    try await reopened.deleteFiles("main", paths: ["src/retry.py"])
    #expect(try await reopened.keywordSearch("main", query: KeywordQuery(text: "backoff"), limit: 5, filter: .none).isEmpty)
  }

  @Test func keywordWeightsRepeatTerms() async throws {
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    try await store.createCollection("main", metadata: contractMetadata(dimension: 0))
    let alpha = contractPoint("a.txt", 0, "alpha filler words here", language: "text", vector: nil)
    let beta = contractPoint("b.txt", 0, "beta filler words here", language: "text", vector: nil)
    try await store.upsert("main", points: [alpha, beta])
    let favourAlpha = try await store.keywordSearch("main", query: KeywordQuery(terms: ["alpha": 3, "beta": 1]), limit: 2, filter: .none)
    let favourBeta = try await store.keywordSearch("main", query: KeywordQuery(terms: ["alpha": 1, "beta": 3]), limit: 2, filter: .none)
    #expect(favourAlpha.map(\.payload.filePath) == ["a.txt", "b.txt"])
    #expect(favourBeta.map(\.payload.filePath) == ["b.txt", "a.txt"])
  }
}

@Suite struct PathGlobTests {
  @Test(arguments: [
    ("src/*.py", "src/a.py", true),
    ("src/*.py", "src/net/a.py", false),
    ("src/**/*.py", "src/net/deep/a.py", true),
    ("src/**/*.py", "src/a.py", true),
    ("**/*.md", "README.md", true),
    ("**/*.md", "docs/a/b.md", true),
    ("**", "any/thing", true),
    ("*.py", "a.py", true),
    ("*.py", "pkg/a.py", false),
    ("src", "src/main.swift", true),
    ("src/", "src/a/b.c", true),
    ("src", "srcs/a.c", false),
    ("tests/test_?.py", "tests/test_a.py", true),
    ("tests/test_?.py", "tests/test_ab.py", false),
    ("[ab]*.txt", "b1.txt", true),
    ("[!ab]*.txt", "b1.txt", false),
    ("[a-c]x", "cx", true),
    ("*.{py,pyi}", "mod.pyi", true),
    ("*.{py,pyi}", "mod.pyc", false),
    ("src/{net,util}/**", "src/util/x/y.py", true),
    ("docs/**/index.md", "docs/index.md", true),
    ("a**b", "a/x/b", true),
    ("literal[", "literal[", true),
    ("ümlaut/*", "ümlaut/ä.txt", true),
    ("*.PY", "a.py", false),
  ])
  func matches(pattern: String, path: String, expected: Bool) {
    #expect(PathGlob(pattern).matches(path) == expected, "\(pattern) vs \(path)")
  }
}

private func cosine(_ a: [Float], _ b: [Float]) -> Double {
  var dot = 0.0, na = 0.0, nb = 0.0
  for (x, y) in zip(a, b) {
    dot += Double(x) * Double(y)
    na += Double(x) * Double(x)
    nb += Double(y) * Double(y)
  }
  return dot / (na.squareRoot() * nb.squareRoot())
}

/// A small seeded generator, so test data is the same on every run.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
