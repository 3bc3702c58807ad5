import Foundation

/// A piece of a file as a chunker cuts it: text plus where it sits in the file.
public struct Chunk: Sendable, Hashable, Codable {
  /// The chunk's text, exactly as it is embedded and stored.
  public var content: String
  /// 1-based first line of the chunk in its file.
  public var startLine: Int
  /// 1-based last line of the chunk in its file (inclusive).
  public var endLine: Int
  /// Language of the file, e.g. `python`, `markdown`, `text`.
  public var language: String
  /// Function, class or heading path the chunk belongs to, when known.
  public var symbol: String?

  public init(content: String, startLine: Int, endLine: Int, language: String, symbol: String? = nil) {
    self.content = content
    self.startLine = startLine
    self.endLine = endLine
    self.language = language
    self.symbol = symbol
  }
}

/// The payload of one indexed point, identical in every store (docs/architecture.md, "The index and its metadata").
public struct ChunkPayload: Sendable, Hashable, Codable {
  public var filePath: String
  public var content: String
  public var chunkIndex: Int
  public var startLine: Int
  public var endLine: Int
  public var language: String
  public var symbol: String?
  /// Git blob SHA of the whole file.
  public var fileHash: String
  /// SHA-256 of the chunk text (hex).
  public var chunkHash: String
  /// Commit the chunk was indexed at (empty outside git).
  public var commit: String
  /// When the chunk was indexed (ISO 8601, UTC).
  public var timestamp: String

  public init(
    filePath: String, content: String, chunkIndex: Int, startLine: Int, endLine: Int,
    language: String, symbol: String?, fileHash: String, chunkHash: String, commit: String, timestamp: String
  ) {
    self.filePath = filePath
    self.content = content
    self.chunkIndex = chunkIndex
    self.startLine = startLine
    self.endLine = endLine
    self.language = language
    self.symbol = symbol
    self.fileHash = fileHash
    self.chunkHash = chunkHash
    self.commit = commit
    self.timestamp = timestamp
  }

  enum CodingKeys: String, CodingKey {
    case filePath = "file_path", content, chunkIndex = "chunk_index", startLine = "start_line"
    case endLine = "end_line", language, symbol, fileHash = "file_hash", chunkHash = "chunk_hash"
    case commit, timestamp
  }

  /// The deterministic point id: a UUIDv5 of path, blob SHA and chunk index.
  public var pointID: String { PointID.make(filePath: filePath, fileHash: fileHash, chunkIndex: chunkIndex) }
}

/// One point in a collection: an id, its payload and (unless keyword-only) its vector.
public struct Point: Sendable, Hashable {
  public var id: String
  public var payload: ChunkPayload
  public var vector: [Float]?

  public init(payload: ChunkPayload, vector: [Float]?) {
    self.id = payload.pointID
    self.payload = payload
    self.vector = vector
  }
}

public enum PointID {
  /// Namespace for point ids (a fixed UUID; changing it would orphan every index).
  public static let namespace = UUID(uuidString: "6f1c1c9e-2f3a-5b8e-9d4e-7a61c0de4a61")!

  public static func make(filePath: String, fileHash: String, chunkIndex: Int) -> String {
    UUIDv5.make(namespace: namespace, name: "\(filePath)\u{0}\(fileHash)\u{0}\(chunkIndex)").uuidString.lowercased()
  }
}

/// Collection metadata (docs/architecture.md, "The index and its metadata"): kept by the store beside the points.
public struct IndexMetadata: Sendable, Hashable, Codable {
  public static let currentSchemaVersion = 1

  public var schemaVersion: Int
  /// Embedder fingerprint: provider, model, dimension and normalisation in one string.
  public var embedder: String
  /// Vector dimension; 0 for a keyword-only collection.
  public var dimension: Int
  public var chunkerVersion: String
  public var createdAt: String
  public var lastIndexedCommit: String?
  public var lastIndexedAt: String?
  /// Where the index comes from, for display: remote URL or root path.
  public var source: String
  /// The repository the collection belongs to: its root commit id(s), sorted (empty outside git,
  /// and in collections made before git-rag recorded them).
  public var rootCommits: [String]
  /// The commits unfinished syncs started writing towards, by writer id (`sync_target.<id>`; the
  /// legacy single `sync_target` key under ""). Each is set before its writer's first write and
  /// removed when a sync claims a commit having made every path they touched equal to it, so while
  /// any is present the collection may hold versions of files that neither `last_indexed_commit`
  /// nor HEAD has (a target is empty when the source has no commits).
  public var pendingTargets: [String: String]
  /// A random id written with every claim of a commit, so a sync can tell that another one
  /// claimed (even the same commit) since it planned.
  public var claimID: String?

  public init(
    schemaVersion: Int = IndexMetadata.currentSchemaVersion, embedder: String, dimension: Int,
    chunkerVersion: String, createdAt: String = Timestamp.now(), lastIndexedCommit: String? = nil,
    lastIndexedAt: String? = nil, source: String, rootCommits: [String] = [], pendingTargets: [String: String] = [:],
    claimID: String? = nil
  ) {
    self.schemaVersion = schemaVersion
    self.embedder = embedder
    self.dimension = dimension
    self.chunkerVersion = chunkerVersion
    self.createdAt = createdAt
    self.lastIndexedCommit = lastIndexedCommit
    self.lastIndexedAt = lastIndexedAt
    self.source = source
    self.rootCommits = rootCommits
    self.pendingTargets = pendingTargets
    self.claimID = claimID
  }

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version", embedder, dimension, chunkerVersion = "chunker_version"
    case createdAt = "created_at", lastIndexedCommit = "last_indexed_commit"
    case lastIndexedAt = "last_indexed_at", source, rootCommits = "root_commits", pendingTargets = "pending_targets", claimID = "claim_id"
  }

  /// The metadata key recording writer `id`'s target.
  public static func pendingTargetKey(_ id: String) -> String { id.isEmpty ? "sync_target" : "sync_target.\(id)" }

  /// The metadata as flat string pairs (how Qdrant collection metadata and SQLite rows keep it).
  public var fields: [String: String] {
    var out = [
      "schema_version": String(schemaVersion), "embedder": embedder, "dimension": String(dimension),
      "chunker_version": chunkerVersion, "created_at": createdAt, "source": source,
    ]
    if let lastIndexedCommit { out["last_indexed_commit"] = lastIndexedCommit }
    if let lastIndexedAt { out["last_indexed_at"] = lastIndexedAt }
    if !rootCommits.isEmpty { out["root_commits"] = rootCommits.joined(separator: ",") }
    for (id, target) in pendingTargets { out[Self.pendingTargetKey(id)] = target }
    if let claimID { out["claim_id"] = claimID }
    return out
  }

  /// Rebuilds metadata from flat string pairs; nil when required keys are missing.
  public init?(fields: [String: String]) {
    guard let embedder = fields["embedder"], let dimension = fields["dimension"].flatMap(Int.init) else { return nil }
    self.init(
      schemaVersion: fields["schema_version"].flatMap(Int.init) ?? 1, embedder: embedder, dimension: dimension,
      chunkerVersion: fields["chunker_version"] ?? "", createdAt: fields["created_at"] ?? "",
      lastIndexedCommit: fields["last_indexed_commit"], lastIndexedAt: fields["last_indexed_at"],
      source: fields["source"] ?? "",
      rootCommits: (fields["root_commits"] ?? "").split(separator: ",").map(String.init),
      pendingTargets: Dictionary(
        uniqueKeysWithValues: fields.compactMap { key, value in
          key == "sync_target" ? ("", value) : key.hasPrefix("sync_target.") ? (String(key.dropFirst(12)), value) : nil
        }),
      claimID: fields["claim_id"])
  }
}

/// A search result at chunk level.
public struct SearchHit: Sendable, Hashable, Codable {
  public var payload: ChunkPayload
  public var score: Double
  /// 1-based rank in the keyword (BM25) list, when the hit was in it.
  public var keywordRank: Int?
  /// 1-based rank in the vector list, when the hit was in it.
  public var vectorRank: Int?

  public init(payload: ChunkPayload, score: Double, keywordRank: Int? = nil, vectorRank: Int? = nil) {
    self.payload = payload
    self.score = score
    self.keywordRank = keywordRank
    self.vectorRank = vectorRank
  }
}

public enum Timestamp {
  /// Now, as ISO 8601 in UTC with seconds.
  public static func now() -> String { string(secondsSince1970: Int(Date().timeIntervalSince1970)) }

  /// `2026-11-25T15:46:08Z` for a Unix time. Plain calendar arithmetic: no formatter, no time-zone
  /// database (a sync calls this on its hot path, and loading ICU for it costs milliseconds).
  public static func string(secondsSince1970 seconds: Int) -> String {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let second = seconds - days * 86_400
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
    return "\(year)-\(two(month))-\(two(day))T\(two(second / 3_600)):\(two(second / 60 % 60)):\(two(second % 60))Z"
  }
}
