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
        continuation.resume(with: Result { EmbeddingServer(server: try TestServer(script: "embedding_server.py", arguments: ["--dimension", String(dimension)])) })
      }
    }
  }

  private init(server: TestServer) { self.server = server }

  func embedder(concurrency: Int = 2) -> OpenAIEmbedder {
    OpenAIEmbedder(configuration: OpenAIEmbedderConfiguration(
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

/// One comparable row per stored chunk: everything the invariant says must match.
struct ChunkRow: Hashable, CustomStringConvertible {
  var path: String
  var start: Int
  var end: Int
  var content: String
  var blob: String
  var vector: [Float]?

  var description: String { "\(path):\(start)-\(end)@\(blob.prefix(7)) \(content.prefix(30).debugDescription)" }
}

enum StoreSnapshot {
  static func rows(_ store: any VectorStore, _ collection: String) async throws -> Set<ChunkRow> {
    let paths = Array(try await store.inventory(collection).keys)
    let points = try await store.points(collection, filePaths: paths)
    return Set(points.map {
      ChunkRow(path: $0.payload.filePath, start: $0.payload.startLine, end: $0.payload.endLine,
               content: $0.payload.content, blob: $0.payload.fileHash, vector: $0.vector)
    })
  }
}

/// A small deterministic random generator (SplitMix64), so every case is reproducible from its seed.
struct SeededRandom: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension SyncEngine {
  /// An engine writing to `collection` of `store`, with small files and slabs so tests are quick.
  static func forTests(store: any VectorStore, embedder: any Embedder, cache: EmbeddingCache?, collection: String, maxFileSize: Int = 4096) -> SyncEngine {
    var options = SyncOptions(collection: collection)
    options.maxFileSize = maxFileSize
    options.slabChunks = 16
    options.upsertBatch = 7
    options.chunking.maxCharacters = 300
    return SyncEngine(store: store, embedder: embedder, cache: cache, options: options)
  }
}
