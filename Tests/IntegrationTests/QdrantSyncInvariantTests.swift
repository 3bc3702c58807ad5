import Embedding
import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

/// The sync invariant property of the embedded store, re-run with Qdrant as the store.
@Suite struct QdrantSyncInvariantTests {
  @Test func incrementalSyncOnQdrantEqualsFullIndex() async throws {
    let fixture = try await QdrantFixture.sharedFixture()
    let server = try await Task.detached { try TestServer(script: "embedding_server.py", arguments: ["--dimension", "8"]) }.value
    defer { server.stop() }
    let embedder = OpenAIEmbedder(
      configuration: OpenAIEmbedderConfiguration(
        baseURL: URL(string: "\(server.baseURL)/v1")!, model: "test-model", maxConcurrentRequests: 2, timeout: 10,
        maxRetries: 3, initialBackoff: 0.01))
    let cases = Int(ProcessInfo.processInfo.environment["GIT_RAG_QDRANT_PROPERTY_CASES"] ?? "") ?? 12
    for index in 0..<cases {
      try await checkSyncInvariant(seed: 90_000 + UInt64(index), embedder: embedder) { _ in try fixture.store() }
    }
  }
}
