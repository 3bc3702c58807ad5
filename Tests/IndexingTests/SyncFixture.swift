import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The embedding test server (real HTTP on loopback) plus its statistics.
final class EmbeddingServer: Sendable {
  let server: TestServer

  static func start(dimension: Int = 8) async throws -> EmbeddingServer {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            EmbeddingServer(server: try TestServer(script: "embedding_server.py", arguments: ["--dimension", String(dimension)]))
          })
      }
    }
  }

  private init(server: TestServer) { self.server = server }

  func embedder(concurrency: Int = 2) -> OpenAIEmbedder {
    OpenAIEmbedder(
      configuration: OpenAIEmbedderConfiguration(
        baseURL: URL(string: "\(server.baseURL)/v1")!, model: "test-model", maxTextsPerRequest: 64,
        maxConcurrentRequests: concurrency, timeout: 10, maxRetries: 3, initialBackoff: 0.01))
  }

  /// Texts embedded since start (or the last reset).
  func textsEmbedded() async throws -> Int {
    let (data, _) = try await URLSession.shared.data(from: URL(string: "\(server.baseURL)/stats")!)
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return object?["texts_embedded"] as? Int ?? -1
  }

  deinit {
    let server = self.server
    DispatchQueue.global().async { server.stop() }
  }
}
