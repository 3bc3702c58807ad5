import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@testable import Indexing

/// A source that records which files were read.
private final class ReadRecorder: ContentSource {
  let inner: GitCommitSource
  private(set) var reads: [String] = []
  init(_ inner: GitCommitSource) { self.inner = inner }
  var revision: String? { inner.revision }
  var identity: String { inner.identity }
  func files() throws -> [SourceFile] { try inner.files() }
  func size(of file: SourceFile) throws -> Int { try inner.size(of: file) }
  func read(_ file: SourceFile) throws -> Data {
    reads.append(file.path)
    return try inner.read(file)
  }
  func ragAttribute(_ path: String) -> RagAttribute { inner.ragAttribute(path) }
  func secretAllowance(_ path: String) -> SecretAllowance { inner.secretAllowance(path) }
}

@Suite struct ContentGateTests {
  let stripe = "sk_live_" + FakeSecret.string(FakeSecret.alnum, 24, seed: 500)
  let keyBody = FakeSecret.string(FakeSecret.base64, 64, seed: 501)
  let envValue = FakeSecret.string(FakeSecret.alnum, 20, seed: 502)

  private func contents(_ store: SQLiteStore, _ collection: String) async throws -> [String: String] {
    let points = try await store.points(collection, filePaths: Array(try await store.inventory(collection).keys))
    return Dictionary(grouping: points, by: \.payload.filePath).mapValues {
      $0.sorted { $0.payload.chunkIndex < $1.payload.chunkIndex }.map(\.payload.content).joined()
    }
  }

  @Test func skippedFilesReachNoReaderAndSecretsOnlyTheirMarker() async throws {
    let repo = try TemporaryGitRepository()
    try repo.commit([
      "app/main.py": "import stripe\n\n\ndef charge():\n    stripe.api_key = \"\(stripe)\"\n",
      "app/keys.py":
        "KEY = '''-----BEGIN RSA PRIVATE KEY-----\n\(keyBody)\n-----END RSA PRIVATE KEY-----'''\n\n\ndef leaked_function_name_zq():\n    return KEY\n",
      "prod.env": "TOKEN=\(envValue)\n",
      "README.md": "# Demo\n",
    ])
    let folder = try TemporaryDirectory(prefix: "git-rag-gate")
    let store = SQLiteStore(directory: folder.url)
    let cacheURL = folder.url.appendingPathComponent("cache.sqlite")
    let engine = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: try EmbeddingCache(url: cacheURL), collection: "gate")
    let repository = try Repository(path: repo.url)
    let recorder = ReadRecorder(GitCommitSource(repository: repository, commit: try repository.head()))
    let report = try await engine.sync(source: recorder)

    #expect(!recorder.reads.contains("prod.env"), "a file skipped by name is never read")
    #expect(Set(report.skipped.map(\.path)) == ["app/keys.py", "prod.env"])
    let stored = try await contents(store, "gate")
    #expect(stored["app/keys.py"] == nil && stored["prod.env"] == nil)
    #expect(stored["app/main.py"]?.contains("stripe.api_key = \"«redacted:stripe-live-key»\"") == true)
    let summary = try #require(stored[".rag_metadata/analysis.txt"])
    #expect(summary.contains("charge") && !summary.contains("leaked_function_name_zq"))
    for (path, text) in stored {
      #expect(!text.contains(stripe) && !text.contains(keyBody) && !text.contains(envValue), "\(path)")
    }
    // Nor does the facts cache on disk hold anything of them.
    for suffix in ["", "-wal"] {
      let bytes = (try? Data(contentsOf: URL(fileURLWithPath: cacheURL.path + suffix))) ?? Data()
      for needle in [stripe, keyBody, envValue, "leaked_function_name_zq"] {
        #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(needle) in cache\(suffix)")
      }
    }
  }

  @Test func allowListsPerPathAndPerRuleAndTheirRemoval() async throws {
    let generic = FakeSecret.string(FakeSecret.alnum, 32, seed: 510)
    let repo = try TemporaryGitRepository()
    try repo.commit([
      ".gitattributes": "fixtures/** rag-allow-secrets=generic-secret\n",
      "fixtures/sample.py": "API_KEY = \"\(generic)\"\n",
      "app/conf.py": "API_KEY = \"\(generic)\"\nSTRIPE = \"\(stripe)\"\n",
      "test.env": "TOKEN=\(envValue)\n",
    ])
    let folder = try TemporaryDirectory(prefix: "git-rag-allow")
    let store = SQLiteStore(directory: folder.url)
    var engine = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: nil, collection: "allow")
    engine.options.secretAllowance = SecretAllowance(rules: ["stripe-live-key", "env-file"])
    _ = try await engine.sync(repository: try Repository(path: repo.url))
    var stored = try await contents(store, "allow")
    #expect(stored["fixtures/sample.py"]?.contains(generic) == true, "allowed for the path")
    #expect(stored["app/conf.py"]?.contains("API_KEY = \"«redacted:generic-secret»\"") == true)
    #expect(stored["app/conf.py"]?.contains(stripe) == true, "allowed by rule")
    #expect(stored["test.env"] == "TOKEN=«redacted:generic-secret»", "a name rule allowed by rule; the content still scanned")

    // Without the rule allowances (a re-chunk), and without the attribute (a .gitattributes change).
    engine.options.secretAllowance = .none
    _ = try await engine.sync(repository: try Repository(path: repo.url))
    stored = try await contents(store, "allow")
    #expect(stored["test.env"] == nil)
    #expect(stored["app/conf.py"]?.contains(stripe) == false)
    _ = try repo.git("rm", "-q", ".gitattributes")
    try repo.commit(message: "no allow-list")
    _ = try await engine.sync(repository: try Repository(path: repo.url))
    stored = try await contents(store, "allow")
    #expect(stored["fixtures/sample.py"]?.contains(generic) == false)
    for (path, text) in stored { #expect(!text.contains(generic) && !text.contains(stripe) && !text.contains(envValue), "\(path)") }
  }
}
