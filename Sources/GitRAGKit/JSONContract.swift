import Foundation
import Git
import GitRAGCore
import Indexing

/// The `--json` outputs and the MCP tool results: one encoder, one version. Each shape is
/// described by a JSON Schema under `docs/schemas/` (see `docs/json.md`); a change that
/// removes or renames a field raises `schemaVersion`.
public enum JSONContract {
  public static let schemaVersion = 1

  /// Pretty, sorted, snake_case keys.
  public static func encode<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }
}

/// Any output with `schema_version` added beside its own fields.
public struct Versioned<Body: Encodable>: Encodable {
  public let body: Body

  public init(_ body: Body) { self.body = body }

  enum CodingKeys: String, CodingKey { case schemaVersion }

  public func encode(to encoder: any Encoder) throws {
    try body.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(JSONContract.schemaVersion, forKey: .schemaVersion)
  }
}

/// Which commit the results come from, and whether that is what the user has checked out.
public struct IndexStamp: Codable, Sendable {
  public var indexedCommit: String?
  public var head: String?
  public var stale: Bool
  public var dirty: Bool

  public init(repository: Repository?, metadata: IndexMetadata?) {
    indexedCommit = metadata?.lastIndexedCommit
    head = repository.flatMap { try? $0.head().hex }
    dirty = repository.flatMap { try? $0.isDirty() } ?? false
    // An uploaded collection (another source than this repository) is not stale because of HEAD.
    let ours =
      repository.flatMap { repository in
        (try? repository.head()).map { metadata?.source == GitCommitSource(repository: repository, commit: $0).identity }
      } ?? false
    stale = ours && head != nil && head != indexedCommit
  }

}

/// One chunk-level result: the hit with its payload, and its freshness.
public struct ChunkResult: Encodable, Sendable {
  public var hit: SearchHit
  /// The chunk comes from the working tree (an uncommitted version), not the committed index.
  public var workingTree: Bool
  /// The file changed after the commit the chunk was indexed at (committed since, or edited).
  public var fileChanged: Bool

  enum CodingKeys: String, CodingKey {
    case payload, score, keywordRank, vectorRank, workingTree, fileChanged
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(hit.payload, forKey: .payload)
    try container.encode(hit.score, forKey: .score)
    try container.encodeIfPresent(hit.keywordRank, forKey: .keywordRank)
    try container.encodeIfPresent(hit.vectorRank, forKey: .vectorRank)
    try container.encode(workingTree, forKey: .workingTree)
    try container.encode(fileChanged, forKey: .fileChanged)
  }
}

/// One file-level result.
public struct FileResult: Encodable, Sendable {
  public var hit: FileHit
  public var best: ChunkResult

  enum CodingKeys: String, CodingKey {
    case filePath, score, best, chunks, keywordRank, vectorRank, fused, boosts, workingTree, fileChanged
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(hit.filePath, forKey: .filePath)
    try container.encode(hit.score, forKey: .score)
    try container.encode(best, forKey: .best)
    try container.encode(hit.chunks, forKey: .chunks)
    try container.encodeIfPresent(hit.keywordRank, forKey: .keywordRank)
    try container.encodeIfPresent(hit.vectorRank, forKey: .vectorRank)
    try container.encode(hit.fused, forKey: .fused)
    try container.encode(hit.boosts, forKey: .boosts)
    try container.encode(best.workingTree, forKey: .workingTree)
    try container.encode(best.fileChanged, forKey: .fileChanged)
  }
}

/// The working tree as a search saw it.
public struct WorkingTreeSummary: Encodable, Sendable {
  /// Whether a search included these changes: false with `--committed` (`committed_only`) or
  /// outside a repository; absent from `status`.
  public var searched: Bool?
  public var modified: [String]
  public var added: [String]
  public var deleted: [String]

  public init(searched: Bool?, changes: [WorkingTreeChange]) {
    self.searched = searched
    modified = changes.filter { $0.kind == .modified }.map(\.path)
    added = changes.filter { $0.kind == .added }.map(\.path)
    deleted = changes.filter { $0.kind == .deleted }.map(\.path)
  }
}

/// What `search` returns: chunks, or files with `files`.
public struct SearchResponse: Encodable, Sendable {
  public var stamp: IndexStamp
  public var workingTree: WorkingTreeSummary
  public var chunks: [ChunkResult]?
  public var files: [FileResult]?
  /// For `--explain` (not part of the JSON): each chunk's fused score and boosts, how the query
  /// was read, and whether vectors took part.
  public var ranked: [RankedChunk] = []
  public var plan: QueryPlan?
  public var usedVectors = false

  public var isEmpty: Bool { (chunks?.isEmpty ?? true) && (files?.isEmpty ?? true) }

  enum CodingKeys: String, CodingKey { case stamp, workingTree, results }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(stamp, forKey: .stamp)
    try container.encode(workingTree, forKey: .workingTree)
    if let files {
      try container.encode(files, forKey: .results)
    } else {
      try container.encode(chunks ?? [], forKey: .results)
    }
  }
}
