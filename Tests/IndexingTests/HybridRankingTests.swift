import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@testable import Indexing

/// A project whose docs talk the way users write, and whose code has the bug.
private let project: [String: String] = [
  "shipit/retry.py": """
  class RetryPolicy:
      def __init__(self, total=3, backoff_factor=0.5):
          self.total = total
          self.backoff_factor = backoff_factor

      def sleep_for(self, attempt):
          return self.backoff_factor * (2 ** attempt)

      def increment(self, error):
          if self.total <= 0:
              raise MaxRetryError(error)
          return RetryPolicy(self.total - 1, self.backoff_factor)
  """,
  "shipit/sessions.py": """
  class Session:
      def __init__(self, retries=None, timeout=None):
          self.retries = retries or RetryPolicy()
          self.timeout = timeout

      def request(self, method, url):
          return self.send(Request(method, url), retries=self.retries)
  """,
  "shipit/cookies.py": """
  class CookieJar:
      def set_cookie(self, name, value, domain=None):
          self._cookies[(domain, name)] = value

      def get_dict(self, domain=None):
          return {name: value for (d, name), value in self._cookies.items() if domain in (None, d)}
  """,
  "docs/configuration.md": """
  # Retrying lost requests

  When the link to a server is lost or the server is briefly unavailable, shipit can wait a
  moment and send the request once more. Choose the number of attempts and the pause between
  them for each session; every pause is longer than the one before.
  """,
  "docs/cookies.md": """
  # Cookies

  Cookies a server sets are kept for the session and sent back on later requests to the same
  domain. Read them as a dictionary, or set your own before the first request.
  """,
]

/// A bug report: a title naming code, prose, the code that fails and its traceback.
private let report = """
  RetryPolicy.increment never raises after the last attempt
  When the network keeps failing, shipit should give up after the configured number of attempts,
  but it keeps trying again forever and the pauses keep growing.

  ```python
  policy = RetryPolicy(total=0)
  policy.increment(ConnectionError())
  ```

  ```
  Traceback (most recent call last):
    File "/home/me/app.py", line 4, in <module>
      policy.increment(ConnectionError())
    File "/usr/lib/python3/site-packages/shipit/retry.py", line 11, in increment
      return RetryPolicy(self.total - 1, self.backoff_factor)
  RecursionError: maximum recursion depth exceeded
  ```
  """

/// A question in the user's words, none of them the code's.
private let question = "how can I make it try again after the connection drops"

/// Hybrid ranking with the real built-in model: the model finds a question's answer in other words,
/// and a report's names and frames keep the code it names above the docs that talk alike.
@Suite struct HybridRankingTests {
  struct Indexed {
    var engine: SearchEngine
    let repository: TemporaryGitRepository
    let storeFolder: TemporaryDirectory
  }

  private func index() async throws -> Indexed {
    let model = LocalEmbedder.defaultModelDirectory
    try #require(
      FileManager.default.fileExists(atPath: model.appendingPathComponent("model.safetensors").path),
      "the built-in model is not installed at \(model.path): run scripts/install-model")
    let embedder = try LocalEmbedder(modelDirectory: model)
    let repo = try TemporaryGitRepository()
    try repo.commit(project)
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    var options = SyncOptions(collection: "hybrid")
    options.fit(to: embedder)
    _ = try await SyncEngine(store: store, embedder: embedder, cache: nil, options: options).sync(
      repository: try Repository(path: repo.url))
    return Indexed(engine: SearchEngine(store: store, embedder: embedder, collection: "hybrid"), repository: repo, storeFolder: folder)
  }

  @Test func eachFileTakesTheVectorRankOfItsBestChunk() async throws {
    let indexed = try await index()
    #expect(QueryPlan(query: report).analysis.looksLikeBugReport)
    #expect(!QueryPlan(query: question).analysis.looksLikeBugReport)
    // With the other lists off, a file's fused score is the vector list's weight over its rank,
    // for a report as for a question (a lower weight for reports was measured and not adopted).
    var vectorOnly = indexed.engine
    vectorOnly.keywordWeight = 0
    vectorOnly.definitionWeight = 0
    vectorOnly.moduleWeight = 0
    for query in [report, question] {
      let files = try await vectorOnly.files(SearchRequest(query: query))
      #expect(files.count >= project.count)
      #expect(Set(files.compactMap(\.vectorRank)) == Set(1...files.count))
      for file in files {
        let rank = try #require(file.vectorRank, "\(file.filePath) has no vector rank")
        #expect(abs(file.fused - vectorOnly.vectorWeight / (vectorOnly.rrfK + Double(rank))) < 1e-12, "\(file.filePath): \(file.fused)")
      }
    }
    withExtendedLifetime(indexed) {}
  }

  @Test func aQuestionInOtherWordsFindsTheDocsThroughTheModel() async throws {
    let indexed = try await index()
    var request = SearchRequest(query: question)
    request.limit = 3
    let files = try await indexed.engine.files(request).map(\.filePath)
    #expect(files.first == "docs/configuration.md", "ranked: \(files)")
    // Control: the words alone do not find it first.
    let keywordOnly = SearchEngine(store: indexed.engine.store, embedder: nil, collection: "hybrid")
    let keywordFiles = try await keywordOnly.files(request).map(\.filePath)
    #expect(keywordFiles.first != "docs/configuration.md", "keyword-only: \(keywordFiles)")
    withExtendedLifetime(indexed) {}
  }

  @Test func aReportRanksTheCodeItNamesAboveTheDocsThatTalkAlike() async throws {
    let indexed = try await index()
    var request = SearchRequest(query: report)
    request.limit = 5
    let files = try await indexed.engine.files(request)
    let paths = files.map(\.filePath)
    #expect(paths.first == "shipit/retry.py", "ranked: \(paths)")
    // The model alone reads the report as prose about retrying and ranks the docs high.
    let docs = try #require(files.first { $0.filePath == "docs/configuration.md" }, "ranked: \(paths)")
    #expect(try #require(docs.vectorRank) <= 2, "docs vector rank \(String(describing: docs.vectorRank))")
    withExtendedLifetime(indexed) {}
  }
}
