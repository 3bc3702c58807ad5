import Foundation
import GitRAGTestSupport

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A temporary repository, the embedding test server, and the built `git-rag` run against them
/// in an isolated environment (temporary HOME and caches, no user git config).
final class EndToEnd: @unchecked Sendable {
  // @unchecked: set up once in init, then only read by one test.
  let repo: TemporaryGitRepository
  let server: TestServer
  let data: TemporaryDirectory

  init(latencyMilliseconds: Int = 0) throws {
    repo = try TemporaryGitRepository()
    data = try TemporaryDirectory(prefix: "git-rag-e2e-data")
    server = try TestServer(script: "embedding_server.py", arguments: ["--dimension", "8", "--latency-ms", String(latencyMilliseconds)])
  }

  var environment: [String: String] {
    var env = repo.environment
    env["XDG_CACHE_HOME"] = data.path + "/cache"
    env["XDG_DATA_HOME"] = data.path + "/data"
    env["GIT_RAG_EMBEDDER"] = "openai"
    env["EMBEDDING_API_URL"] = server.baseURL + "/v1"
    env["MODEL_NAME"] = "test-model"
    env["NO_COLOR"] = "1"
    env["PATH"] = GitRAGBinary.url.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    return env
  }

  @discardableResult
  func gitRAG(_ arguments: String..., in subdirectory: String? = nil, environment extra: [String: String] = [:]) throws -> ProcessResult {
    var env = environment
    for (key, value) in extra { env[key] = value }
    let dir = subdirectory.map { repo.url.appendingPathComponent($0) } ?? repo.url
    return try GitRAGBinary.run(arguments, in: dir, environment: env)
  }

  /// `git-rag ARGS --json`, decoded.
  func json(_ arguments: String...) throws -> [String: Any] {
    let result = try GitRAGBinary.run(arguments + ["--json"], in: repo.url, environment: environment)
    guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
      throw TestServerError(message: "git-rag \(arguments) failed (\(result.status)): \(result.stderr)")
    }
    return object
  }

  func textsEmbedded() throws -> Int {
    let data = try Data(contentsOf: URL(string: server.baseURL + "/stats")!)
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["texts_embedded"] as? Int ?? -1
  }
}
