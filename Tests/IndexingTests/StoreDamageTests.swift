import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// A damaged store stops a sync before it records a commit, with advice that works: `--reindex`
/// rebuilds it whatever the damage, and `collection delete` removes it.
@Suite struct StoreDamageTests {
  let server: EmbeddingServer
  let repo: TemporaryGitRepository
  let folder: TemporaryDirectory
  let first: String

  init() async throws {
    server = try await EmbeddingServer.start()
    repo = try TemporaryGitRepository()
    var files: [String: String] = [:]
    for i in 0..<120 {
      files["src/module\(i).py"] = (0..<12).map {
        "def function_\(i)_\($0)(value):\n    return value * \($0) + \(i)  # \(String(repeating: "x", count: 40))\n"
      }.joined()
    }
    first = try repo.commit(files)
    folder = try TemporaryDirectory(prefix: "git-rag-damage")
    // Built and closed, so the whole index is in the main file (no write-ahead log).
    let store = SQLiteStore(directory: folder.url)
    _ = try await engine(store).sync(repository: try Repository(path: repo.url))
  }

  var file: URL { folder.url.appendingPathComponent("main.sqlite") }

  func engine(_ store: SQLiteStore, reindex: Bool = false) -> SyncEngine {
    var options = SyncOptions(collection: "main")
    options.reindex = reindex
    return SyncEngine(store: store, embedder: server.embedder(), cache: nil, options: options)
  }

  /// Overwrites `count` pages in the middle of the file with garbage.
  func corruptPages(count: Int = 4) throws {
    let handle = try FileHandle(forUpdating: file)
    defer { try? handle.close() }
    let size = try handle.seekToEnd()
    let pageSize: UInt64 = 8192
    let middle = (size / pageSize / 2) * pageSize
    try handle.seek(toOffset: middle)
    try handle.write(contentsOf: Data((0..<Int(pageSize) * count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
  }

  /// A new commit, a sync that must fail with the store's way out, and the old commit still recorded.
  func expectSyncRefusedThenReindexRecovers(lastRecorded: String?) async throws {
    _ = try repo.commit(["src/new.py": "def added():\n    return 1\n"])
    let repository = try Repository(path: repo.url)
    let store = SQLiteStore(directory: folder.url)
    do {
      _ = try await engine(store).sync(repository: repository)
      Issue.record("the sync of a damaged store succeeded")
    } catch {
      let message = (error as? any UserFacingError)?.errorDescription ?? "\(error)"
      #expect(message.contains("git rag sync --reindex"), "\(message)")
      #expect(message.contains("git rag collection delete main"), "\(message)")
      #expect(!message.contains("\n"))
    }
    // Nothing claims the new commit (the damaged file may not even say which one it holds).
    let recorded = (try? await SQLiteStore(directory: folder.url).metadata("main"))??.lastIndexedCommit
    #expect(recorded == nil || recorded == lastRecorded)
    // The advice works: a rebuild replaces the damaged file.
    let report = try await engine(SQLiteStore(directory: folder.url), reindex: true).sync(repository: repository)
    #expect(report.target == repo.head)
    let rebuilt = SQLiteStore(directory: folder.url)
    try await rebuilt.checkIntegrity("main", thorough: true)
    #expect(try await rebuilt.metadata("main")?.lastIndexedCommit == repo.head)
    #expect(
      try await rebuilt.keywordSearch("main", query: KeywordQuery(text: "added"), limit: 1, filter: .none).first?.payload.filePath
        == "src/new.py")
    #expect(try await rebuilt.listCollections() == ["main"])
  }

  @Test func aGarbageFile() async throws {
    try Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: file)
    await #expect(throws: SQLiteStoreError.self) { try await SQLiteStore(directory: folder.url).checkIntegrity("main", thorough: false) }
    try await expectSyncRefusedThenReindexRecovers(lastRecorded: nil)
  }

  @Test func aTruncatedFile() async throws {
    let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
    try FileHandle(forUpdating: file).truncate(atOffset: UInt64(size / 2))
    do {
      try await SQLiteStore(directory: folder.url).checkIntegrity("main", thorough: false)
      Issue.record("a truncated store passed the check")
    } catch let error as SQLiteStoreError {
      #expect(error.errorDescription?.contains("truncated") == true)
    }
    try await expectSyncRefusedThenReindexRecovers(lastRecorded: first)
  }

  /// A sync that checked the store records it whole; later syncs skip the check until anything
  /// writes the file again, however soon after.
  @Test func aWholeRecordLastsUntilTheFileIsWritten() async throws {
    let store = SQLiteStore(directory: folder.url)
    #expect(await store.isUnchangedSinceWhole("main"))
    // Searches and syncs (other processes' stores) keep it: SQLite's log is not the file.
    _ = try await SQLiteStore(directory: folder.url).keywordSearch(
      "main", query: KeywordQuery(text: "function_3_4"), limit: 1, filter: .none)
    _ = try repo.commit(["src/module0.py": "def changed():\n    return 0\n"])
    _ = try await engine(SQLiteStore(directory: folder.url)).sync(repository: try Repository(path: repo.url))
    #expect(await SQLiteStore(directory: folder.url).isUnchangedSinceWhole("main"))
    // A replaced file (same size, same modification time) is another inode.
    let copy = folder.url.appendingPathComponent("copy.sqlite")
    try FileManager.default.copyItem(at: file, to: copy)
    let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
    try FileManager.default.setAttributes([.modificationDate: attributes[.modificationDate]!], ofItemAtPath: copy.path)
    try FileManager.default.removeItem(at: file)
    try FileManager.default.moveItem(at: copy, to: file)
    #expect(!(await SQLiteStore(directory: folder.url).isUnchangedSinceWhole("main")))
    // The next sync checks the store and records it again.
    _ = try repo.commit(["src/module1.py": "def changed_too():\n    return 1\n"])
    _ = try await engine(SQLiteStore(directory: folder.url)).sync(repository: try Repository(path: repo.url))
    #expect(await SQLiteStore(directory: folder.url).isUnchangedSinceWhole("main"))
    // One byte written in place, at once: the record no longer holds.
    let handle = try FileHandle(forUpdating: file)
    try handle.seek(toOffset: 8192 * 3 + 100)
    try handle.write(contentsOf: Data([0x5A]))
    try handle.close()
    #expect(!(await SQLiteStore(directory: folder.url).isUnchangedSinceWhole("main")))
  }

  @Test func corruptedPages() async throws {
    try corruptPages()
    await #expect(throws: SQLiteStoreError.self) { try await SQLiteStore(directory: folder.url).checkIntegrity("main", thorough: true) }
    try await expectSyncRefusedThenReindexRecovers(lastRecorded: first)
  }

  @Test func collectionDeleteRemovesADamagedFile() async throws {
    try Data("not a database at all".utf8).write(to: file)
    let store = SQLiteStore(directory: folder.url)
    try await store.deleteCollection("main")
    #expect(try await store.listCollections().isEmpty)
    _ = try await engine(store).sync(repository: try Repository(path: repo.url))
    try await store.checkIntegrity("main", thorough: true)
  }

  @Test func aKilledReindexLeavesNothingListedAndTheNextSyncClearsIt() async throws {
    let store = SQLiteStore(directory: folder.url)
    // What a rebuild killed before its swap leaves: a whole staging collection beside the real one.
    try await store.createCollection(StagingCollection.name(for: "main"), metadata: try #require(try await store.metadata("main")))
    #expect(try await store.listCollections() == ["main"])
    _ = try repo.commit(["src/new.py": "def added():\n    return 1\n"])
    _ = try await engine(store).sync(repository: try Repository(path: repo.url))
    #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("main.reindex.sqlite").path))
  }
}
