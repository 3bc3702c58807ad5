import Foundation
import Git
import GitRAGCore
import GitRAGKit
import GitRAGTestSupport
import Indexing
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Search covers the working tree: a repository synced at HEAD, then edited without committing.
final class WorkingTreeFixture: @unchecked Sendable {
  // @unchecked: set up once, then used by one test.
  let repo: TemporaryGitRepository
  let server: TestServer
  let data: TemporaryDirectory

  init() throws {
    repo = try TemporaryGitRepository()
    data = try TemporaryDirectory(prefix: "git-rag-kit-data")
    server = try TestServer(script: "embedding_server.py", arguments: ["--dimension", "8"])
    try repo.commit([
      "retry.py": "def retry_with_backoff(call):\n    \"\"\"Retry a failing call with exponential backoff.\"\"\"\n    return call()\n",
      "config.py": "def load_settings(path):\n    \"\"\"Load the settings file.\"\"\"\n    return open(path).read()\n",
      "old_name.py": "def parse_arguments(argv):\n    \"\"\"Parse the command line arguments.\"\"\"\n    return argv[1:]\n",
      ".gitignore": "build/\n",
    ])
  }

  var environment: [String: String] {
    var env = repo.environment
    env["XDG_CACHE_HOME"] = data.path + "/cache"
    env["XDG_DATA_HOME"] = data.path + "/data"
    env["GIT_RAG_EMBEDDER"] = "openai"
    env["EMBEDDING_API_URL"] = server.baseURL + "/v1"
    env["MODEL_NAME"] = "test-model"
    return env
  }

  func session() throws -> IndexSession {
    try IndexSession(context: CommandContext(options: SettingOverrides(), environment: environment, directory: repo.url))
  }

  func search(_ query: String, committedOnly: Bool = false, k: Int = 20) async throws -> SearchResponse {
    var options = SearchOptions(query: query)
    options.limit = k
    options.committedOnly = committedOnly
    return try await session().search(options)
  }

  /// Texts the embedding server has embedded so far.
  func embeddedTexts() throws -> [String] {
    let data = try Data(contentsOf: URL(string: server.baseURL + "/stats")!)
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["texts"] as? [String] ?? []
  }
}

extension SearchResponse {
  var paths: [String] { (chunks ?? []).map(\.hit.payload.filePath) }
  func hits(_ path: String) -> [ChunkResult] { (chunks ?? []).filter { $0.hit.payload.filePath == path } }
}

@Suite struct WorkingTreeSearchTests {
  @Test func editsDeletesRenamesAndNewFilesReplaceTheCommittedVersions() async throws {
    let f = try WorkingTreeFixture()
    _ = try await f.session().syncWaiting()
    let committed = f.repo.head

    try f.repo.write(
      "retry.py", "def retry_with_jitter(call):\n    \"\"\"Retry a failing call with random jitter.\"\"\"\n    return call()\n")
    try f.repo.remove("config.py")
    try f.repo.git("mv", "old_name.py", "new_name.py")
    try f.repo.write("untracked.py", "def untracked_helper():\n    \"\"\"An untracked helper for jitter.\"\"\"\n    return 1\n")
    try f.repo.write("build/ignored.py", "def ignored_jitter():\n    return 0\n")
    try f.repo.write("image.bin", data: Data([0, 1, 2, 0, 255, 0] + Array(repeating: 0, count: 64)))

    let response = try await f.search("jitter retry settings arguments helper", k: 50)
    // Edited: only the working-tree version, marked as such.
    let retry = response.hits("retry.py")
    #expect(!retry.isEmpty && retry.allSatisfy { $0.workingTree && $0.hit.payload.content.contains("jitter") })
    #expect(
      retry.allSatisfy {
        $0.hit.payload.commit.isEmpty
          && $0.hit.payload.fileHash == (try? GitBlob.id(ofFileAt: f.repo.url.appendingPathComponent("retry.py")).hex)
      })
    // Deleted and renamed-away paths drop out; the new name is there.
    #expect(!response.paths.contains("config.py"))
    #expect(!response.paths.contains("old_name.py"))
    #expect(response.hits("new_name.py").allSatisfy(\.workingTree) && !response.hits("new_name.py").isEmpty)
    #expect(response.hits("untracked.py").allSatisfy(\.workingTree) && !response.hits("untracked.py").isEmpty)
    // Ignored and binary files are never searched.
    #expect(!response.paths.contains("build/ignored.py"))
    #expect(!response.paths.contains("image.bin"))
    #expect(response.workingTree.deleted.contains("config.py") && response.workingTree.added.contains("untracked.py"))

    // --committed: HEAD's index as it was, the edited file marked as changed since indexed.
    let head = try await f.search("jitter retry settings arguments helper", committedOnly: true, k: 50)
    #expect(head.paths.contains("config.py") && head.paths.contains("old_name.py") && !head.paths.contains("untracked.py"))
    #expect(head.hits("retry.py").allSatisfy { !$0.workingTree && $0.fileChanged })
    #expect(head.hits("retry.py").allSatisfy { $0.hit.payload.content.contains("backoff") })

    // The committed index is untouched: same files, same commit; a sync has nothing to do.
    let status = try await f.session().status()
    #expect(status.lastIndexedCommit == committed)
    #expect(status.pendingSync?.mode == .upToDate)
    #expect(status.workingTree.modified.contains("retry.py"))
  }

  @Test func vectorsAreReusedAndASecretIsNeverEmbedded() async throws {
    let f = try WorkingTreeFixture()
    _ = try await f.session().syncWaiting()
    let secret = "AKIAIOSFODNN7EXAMPLE"
    try f.repo.write(".env", "AWS_ACCESS_KEY_ID=\(secret)\n")
    try f.repo.write("keys.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n")
    try f.repo.write(
      "retry.py",
      "def retry_with_backoff(call):\n    \"\"\"Retry a failing call with exponential backoff.\"\"\"\n    return call()\n\n\ndef give_up():\n    return None\n"
    )

    let before = try f.embeddedTexts().count
    let first = try await f.search("retry give up")
    #expect(!first.hits("retry.py").isEmpty)
    #expect(!first.paths.contains(".env") && !first.paths.contains("keys.pem"))
    let afterFirst = try f.embeddedTexts()
    #expect(!afterFirst.contains { $0.contains(secret) || $0.contains("PRIVATE KEY") })
    // The unchanged first function's vector came from the committed index: only the new chunk
    // (or chunks) and the query were embedded.
    #expect(afterFirst.count - before < 4)

    // Repeated: the overlay is current, so only the query is embedded.
    _ = try await f.search("retry give up")
    #expect(try f.embeddedTexts().count - afterFirst.count == 1)
  }
}
