import Embedding
import Foundation
import GitRAGCore
import Store

/// A query as a user (or an agent) asks it.
public struct SearchRequest: Sendable {
  public var query: String
  public var limit = 10
  /// One row per file (its score from its best chunks) instead of one per chunk.
  public var files = false
  public var filter = SearchFilter.none

  public init(query: String) { self.query = query }
}

/// A file-level result built from chunk hits.
public struct FileHit: Sendable, Codable, Hashable {
  public var filePath: String
  public var score: Double
  /// The file's best chunk.
  public var best: SearchHit
  public var chunks: Int

  enum CodingKeys: String, CodingKey {
    case filePath = "file_path", score, best, chunks
  }
}

/// Hybrid search: BM25 and vector similarity fused by reciprocal rank.
public struct SearchEngine: Sendable {
  public let store: any VectorStore
  public let embedder: (any Embedder)?
  public let collection: String
  /// Candidates taken from each ranked list before fusion.
  public var depth = 100
  /// Reciprocal-rank-fusion constant (ranks are 1-based).
  public var rrfK = 60.0
  public var keywordWeight = 1.0
  public var vectorWeight = 1.0

  public init(store: any VectorStore, embedder: (any Embedder)?, collection: String) {
    self.store = store
    self.embedder = embedder
    self.collection = collection
  }

  /// Chunk-level hits, best first.
  public func chunks(_ request: SearchRequest, limit: Int? = nil) async throws -> [SearchHit] {
    let keywordQuery = KeywordQuery(text: request.query)
    let depth = max(self.depth, (limit ?? request.limit) * 3)
    async let keywordHits = keywordQuery.terms.isEmpty
      ? [] : store.keywordSearch(collection, query: keywordQuery, limit: depth, filter: request.filter)
    var vectorHits: [SearchHit] = []
    if let embedder, try await embedder.dimension > 0 {
      let vector = try await embedder.embed([request.query])[0]
      vectorHits = try await store.vectorSearch(collection, vector: vector, limit: depth, filter: request.filter)
    }
    let fused = fuse(keyword: try await keywordHits, vector: vectorHits)
    return Array(fused.prefix(limit ?? request.limit))
  }

  /// File-level hits: each file scored from its best chunks, best first.
  public func files(_ request: SearchRequest) async throws -> [FileHit] {
    let hits = try await chunks(request, limit: max(request.limit * 10, depth))
    var byFile: [String: FileHit] = [:]
    for hit in hits {
      let path = hit.payload.filePath
      if var existing = byFile[path] {
        // The best chunk counts fully; further chunks add a little (a file that matches in
        // several places is a better bet than one lucky chunk).
        existing.score += hit.score * 0.25
        existing.chunks += 1
        byFile[path] = existing
      } else {
        byFile[path] = FileHit(filePath: path, score: hit.score, best: hit, chunks: 1)
      }
    }
    return Array(byFile.values.sorted { ($0.score, $1.filePath) > ($1.score, $0.filePath) }.prefix(request.limit))
  }

  /// Reciprocal rank fusion of two ranked lists (keyword-only when `vector` is empty).
  func fuse(keyword: [SearchHit], vector: [SearchHit]) -> [SearchHit] {
    var merged: [String: SearchHit] = [:]
    for (index, hit) in keyword.enumerated() {
      var entry = hit
      entry.keywordRank = index + 1
      entry.vectorRank = nil
      entry.score = keywordWeight / (rrfK + Double(index + 1))
      merged[hit.payload.pointID] = entry
    }
    for (index, hit) in vector.enumerated() {
      let add = vectorWeight / (rrfK + Double(index + 1))
      if var entry = merged[hit.payload.pointID] {
        entry.vectorRank = index + 1
        entry.score += add
        merged[hit.payload.pointID] = entry
      } else {
        var entry = hit
        entry.keywordRank = nil
        entry.vectorRank = index + 1
        entry.score = add
        merged[hit.payload.pointID] = entry
      }
    }
    return merged.values.sorted {
      ($0.score, $1.payload.filePath, $1.payload.chunkIndex) > ($1.score, $0.payload.filePath, $0.payload.chunkIndex)
    }
  }
}
