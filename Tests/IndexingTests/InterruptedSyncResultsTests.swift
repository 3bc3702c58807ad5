import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// After a sync dies between writing new versions and deleting old ones, search shows one
/// version per file and the counts are those of one version per file.
@Suite struct InterruptedSyncResultsTests {
  struct Interrupted: Error {}

  @Test func oneVersionPerFileAndExactCountsUntilTheNextSync() async throws {
    let server = try await EmbeddingServer.start()
    let repo = try TemporaryGitRepository()
    var files: [String: String] = [:]
    for i in 0..<20 { files["src/part\(i).py"] = "def compute_total_\(i)(values):\n    return sum(values) + \(i)\n" }
    let first = try repo.commit(files)
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    let repository = try Repository(path: repo.url)
    let engine = SyncEngine(store: store, embedder: server.embedder(), cache: nil, options: SyncOptions(collection: "main"))
    _ = try await engine.sync(repository: repository)
    let before = try await store.info("main")

    // Every file changes; the sync is killed after writing the new chunks, before deleting the old.
    var changed: [String: String] = [:]
    for i in 0..<20 { changed["src/part\(i).py"] = "def compute_total_\(i)(values):\n    return sum(values) * \(i)  # changed\n" }
    let second = try repo.commit(changed)
    var interrupted = engine
    interrupted.faultInjection = { step in if step == "delete" { throw Interrupted() } }
    await #expect(throws: Interrupted.self) { _ = try await interrupted.sync(repository: try Repository(path: repo.url)) }
    let stored = try await store.count("main")
    #expect(stored == before.points + 20, "both versions of the 20 files are stored: \(stored) vs \(before.points)")
    let metadata = try #require(try await store.metadata("main"))
    #expect(metadata.lastIndexedCommit == first)
    #expect(Set(metadata.pendingTargets.values) == [second])

    let info = try await store.info("main")
    #expect(info.points == before.points)
    #expect(info.files == before.files)
    let search = SearchEngine(store: store, embedder: server.embedder(), collection: "main")
    var request = SearchRequest(query: "compute_total values sum")
    request.limit = 100
    let hits = try await search.chunks(request)
    #expect(!hits.isEmpty)
    #expect(Set(hits.map(\.payload.filePath)).count == hits.count, "a file shows up twice")
    // The version kept is the recorded commit's.
    #expect(hits.allSatisfy { !$0.payload.content.contains("# changed") })
    let fileHits = try await search.files(request)
    #expect(Set(fileHits.map(\.filePath)).count == fileHits.count)

    // The next sync converges and the new versions show.
    _ = try await engine.sync(repository: try Repository(path: repo.url))
    let after = try await search.chunks(request)
    #expect(
      after.allSatisfy { $0.payload.content.contains("# changed") || !$0.payload.filePath.hasPrefix("src/") },
      "\(after.map(\.payload.filePath))")
    #expect(try await store.count("main") == before.points)
  }
}
