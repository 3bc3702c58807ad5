import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// A small Python project: the definitions, a module that only uses them, and (written by the
/// sync) the project summary that names every class and function.
private let project: [String: String] = [
  "shipit/models.py": """
  class PreparedRequest:
      def prepare_headers(self, headers):
          self.headers = dict(headers or {})

      def prepare_body(self, data, files):
          body = encode(data, files)
          self.headers['Content-Length'] = str(len(body) if body else 0)
          self.body = body

  def encode(data, files):
      return data
  """,
  "shipit/sessions.py": """
  from shipit.models import PreparedRequest

  class Session:
      def request(self, method, url, data=None):
          prep = PreparedRequest()
          prep.prepare_headers({})
          prep.prepare_body(data, None)
          return self.send(prep)
  """,
]

/// Qdrant ranks like the embedded store: the same project, the same embedder, the same queries.
@Suite struct QdrantRankingTests {
  @Test(arguments: ["prepare_body", "PreparedRequest", "where is `encode` defined"])
  func anIdentifierQueryPutsItsDefinitionAboveTheSummaryOnBothStores(query: String) async throws {
    let fixture = try await QdrantFixture.sharedFixture()
    let server = try await Task.detached { try TestServer(script: "embedding_server.py", arguments: ["--dimension", "8"]) }.value
    defer { server.stop() }
    let embedder = OpenAIEmbedder(
      configuration: OpenAIEmbedderConfiguration(
        baseURL: URL(string: "\(server.baseURL)/v1")!, model: "test-model", maxConcurrentRequests: 2, timeout: 10,
        maxRetries: 3, initialBackoff: 0.01))
    let repo = try TemporaryGitRepository()
    try repo.commit(project)
    let folder = try TemporaryDirectory()
    let collection = QdrantFixture.collectionName("ranking")
    var rankings: [[String]] = []
    for store in [SQLiteStore(directory: folder.url) as any VectorStore, try fixture.store()] {
      var options = SyncOptions(collection: collection)
      options.chunking.maxCharacters = 200
      let sync = SyncEngine(store: store, embedder: embedder, cache: nil, options: options)
      _ = try await sync.sync(repository: try Repository(path: repo.url))
      let engine = SearchEngine(store: store, embedder: embedder, collection: collection)
      var request = SearchRequest(query: query)
      request.limit = 10
      let files = try await engine.files(request).map(\.filePath)
      #expect(files.first == "shipit/models.py", "\(type(of: store)): \(files)")
      #expect(files.contains(".rag_metadata/analysis.txt"), "\(type(of: store)): the summary is indexed and matches")
      if let summary = files.firstIndex(of: ".rag_metadata/analysis.txt") { #expect(summary > 0) }
      let chunks = try await engine.rankedChunks(request)
      #expect(chunks.first?.boosts.contains(where: \.isDefinition) == true, "\(type(of: store)): \(chunks.map(\.hit.payload.filePath))")
      rankings.append(files)
    }
    #expect(rankings[0] == rankings[1], "SQLite and Qdrant rank the files alike")
    withExtendedLifetime(folder) {}
  }
}
