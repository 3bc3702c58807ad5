import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `--reindex` builds the new index aside and swaps it in: a rebuild that fails leaves the old
/// index whole, with its embedder, its commit and its answers.
@Suite struct ReindexTests {
  @Test func aFailedReindexLeavesTheOldIndexAndASuccessfulOneReplacesIt() async throws {
    let server = try await EmbeddingServer.start()
    let repo = try TemporaryGitRepository()
    _ = try repo.commit([
      "src/config.py": "def read_config(path):\n    return open(path).read()\n", "README.md": "# Tool\n\nReads configuration files.\n",
    ])
    let storeFolder = try TemporaryDirectory()
    let store = SQLiteStore(directory: storeFolder.url)
    let repository = try Repository(path: repo.url)

    let first = SyncEngine(store: store, embedder: server.embedder(), cache: nil, options: SyncOptions(collection: "main"))
    _ = try await first.sync(repository: repository)
    let before = try #require(try await store.metadata("main"))
    let count = try await store.count("main")
    #expect(count > 0)

    // Another model whose every request fails: the rebuild dies half-way.
    var options = SyncOptions(collection: "main")
    options.reindex = true
    let other = OpenAIEmbedder(
      configuration: OpenAIEmbedderConfiguration(
        baseURL: URL(string: "\(server.server.baseURL)/v1")!, model: "other-model", maxTextsPerRequest: 64,
        maxConcurrentRequests: 1, timeout: 10, maxRetries: 0, initialBackoff: 0.01))
    try await server.control(["fail_next": 1000, "status": 500])
    await #expect(throws: (any Error).self) {
      _ = try await SyncEngine(store: store, embedder: other, cache: nil, options: options).sync(repository: repository)
    }
    #expect(try await store.metadata("main") == before)
    #expect(try await store.count("main") == count)
    #expect(
      try await store.keywordSearch("main", query: KeywordQuery(text: "read_config"), limit: 1, filter: .none).first?.payload.filePath
        == "src/config.py")
    #expect(try await store.listCollections() == ["main"])

    // The same rebuild with a working server replaces the index in one step.
    try await server.control(["reset": true])
    let report = try await SyncEngine(store: store, embedder: other, cache: nil, options: options).sync(repository: repository)
    #expect(report.collection == "main")
    let after = try #require(try await store.metadata("main"))
    #expect(after.embedder != before.embedder)
    #expect(after.embedder.contains("other-model"))
    #expect(after.lastIndexedCommit == repo.head)
    #expect(try await store.count("main") == count)
    #expect(try await store.listCollections() == ["main"])
    let hits = try await store.vectorSearch("main", vector: [Float](repeating: 1, count: after.dimension), limit: 10, filter: .none)
    #expect(hits.count == count)
  }
}

extension EmbeddingServer {
  func control(_ settings: [String: any Sendable]) async throws {
    var request = URLRequest(url: URL(string: "\(server.baseURL)/control")!)
    request.httpMethod = "POST"
    request.httpBody = try JSONSerialization.data(withJSONObject: settings)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    _ = try await URLSession.shared.data(for: request)
  }
}
