import GitRAGCore

/// What the sync executor and search need from a store. `SQLiteStore` (embedded default) and
/// `QdrantStore` both conform; one contract test suite runs against both.
///
/// A store instance is bound to one place (a SQLite folder, a Qdrant URL); collections are named.
/// Adding a store: docs/architecture.md, "Where to add things".
public protocol VectorStore: Sendable {
  /// Short human name of where the data lives (`sqlite:/path/.git/rag`, `qdrant:http://host:6333`).
  var location: String { get }

  func listCollections() async throws -> [String]
  func collectionExists(_ collection: String) async throws -> Bool
  /// Creates a collection for vectors of `metadata.dimension` (0: keyword-only) holding `metadata`.
  /// Throws if it exists.
  func createCollection(_ collection: String, metadata: IndexMetadata) async throws
  /// Deletes a collection; throws if it does not exist.
  func deleteCollection(_ collection: String) async throws
  func info(_ collection: String) async throws -> CollectionInfo

  /// The collection's metadata; nil when the collection has none yet.
  func metadata(_ collection: String) async throws -> IndexMetadata?
  /// Replaces the collection's metadata.
  func setMetadata(_ collection: String, _ metadata: IndexMetadata) async throws
  /// Sets the `set` keys and removes the `remove` keys of the collection's metadata (its flat
  /// `IndexMetadata.fields`), leaving every other key as it is. On Qdrant this is one merge, so
  /// syncs on several machines that write different keys never undo each other's.
  func updateMetadata(_ collection: String, set: [String: String], remove: [String]) async throws

  /// Inserts or replaces points by id.
  func upsert(_ collection: String, points: [Point]) async throws
  /// Deletes every point whose `file_path` is one of `paths`.
  func deleteFiles(_ collection: String, paths: [String]) async throws
  /// Deletes points by id.
  func deletePoints(_ collection: String, ids: [String]) async throws
  /// For each `path → hash`, deletes the points of `path` whose `file_hash` is not `hash`: the old
  /// version of a modified file goes only after the new one is written, so the index stays whole.
  func deleteStale(_ collection: String, keeping files: [String: String]) async throws

  /// `file_path → file_hash` for every file in the collection (the reconcile inventory).
  func inventory(_ collection: String) async throws -> [String: String]
  /// The `file_hash` of `filePath`'s points, without reading them: nil when the file has no
  /// points, or when points of two versions coexist (a replace interrupted before the old version
  /// was deleted), so that a caller comparing hashes never mistakes a half-replaced file for current.
  func fileHash(_ collection: String, filePath: String) async throws -> String?
  /// The points of `paths` with their vectors (to move renamed files without re-embedding).
  func points(_ collection: String, filePaths: [String]) async throws -> [Point]
  /// Vectors already stored for these chunk hashes (reuse instead of re-embedding).
  func vectors(_ collection: String, chunkHashes: [String]) async throws -> [String: [Float]]
  func count(_ collection: String) async throws -> Int
  /// Throws a one-line error with the way out when the collection's data is damaged: a quick
  /// check, or with `thorough` a complete one (every page, index and row).
  func checkIntegrity(_ collection: String, thorough: Bool) async throws
  /// True when the collection's data is exactly as a passed check and the writes after it left
  /// it (`recordWhole`), so a writer holding the sync lock may skip the quick check. False when
  /// anything else may have changed it, and whenever in doubt.
  func isUnchangedSinceWhole(_ collection: String) async -> Bool
  /// Records the collection's data as whole as it is now, after a passed check and the writes of
  /// the writer holding the sync lock (best effort: without a record, the next sync checks).
  func recordWhole(_ collection: String) async

  /// Keyword (BM25) search over chunk text, symbols and paths; best first.
  func keywordSearch(_ collection: String, query: KeywordQuery, limit: Int, filter: SearchFilter) async throws -> [SearchHit]
  /// Exact (or approximate, on Qdrant) cosine search; best first.
  func vectorSearch(_ collection: String, vector: [Float], limit: Int, filter: SearchFilter) async throws -> [SearchHit]
}

extension VectorStore {
  /// Stores whose data lives on a server check nothing here: the server guards its own files.
  public func checkIntegrity(_ collection: String, thorough: Bool) async throws {}
  public func isUnchangedSinceWhole(_ collection: String) async -> Bool { false }
  public func recordWhole(_ collection: String) async {}

  /// Portable fallback: read, change, write back (a store with one writer at a time needs no more).
  public func updateMetadata(_ collection: String, set: [String: String], remove: [String]) async throws {
    var fields = try await metadata(collection)?.fields ?? [:]
    for key in remove { fields[key] = nil }
    fields.merge(set) { _, new in new }
    guard let updated = IndexMetadata(fields: fields) else { return }
    try await setMetadata(collection, updated)
  }

  /// Portable fallback built on `points`; stores override it with a cheap query.
  public func fileHash(_ collection: String, filePath: String) async throws -> String? {
    let hashes = Set(try await points(collection, filePaths: [filePath]).map(\.payload.fileHash))
    return hashes.count == 1 ? hashes.first : nil
  }

  /// Portable fallback built on `points` and `deletePoints`; stores override it with one query.
  public func deleteStale(_ collection: String, keeping files: [String: String]) async throws {
    guard !files.isEmpty else { return }
    let stale = try await points(collection, filePaths: Array(files.keys))
      .filter { files[$0.payload.filePath] != $0.payload.fileHash }
      .map(\.id)
    if !stale.isEmpty { try await deletePoints(collection, ids: stale) }
  }
}

/// Counts and metadata shown by `git rag status` and `collection info`.
public struct CollectionInfo: Sendable, Hashable, Codable {
  public var name: String
  public var points: Int
  public var files: Int
  public var dimension: Int
  public var metadata: IndexMetadata?

  public init(name: String, points: Int, files: Int, dimension: Int, metadata: IndexMetadata?) {
    self.name = name
    self.points = points
    self.files = files
    self.dimension = dimension
    self.metadata = metadata
  }
}

/// A keyword query as terms of `CodeTokenizer` with a weight each (repeats add up).
public struct KeywordQuery: Sendable, Hashable {
  public var terms: [String: Double]

  public init(terms: [String: Double]) { self.terms = terms }

  /// Terms of free text, stop words dropped, each weighted by how often it occurs.
  public init(text: String) {
    var terms: [String: Double] = [:]
    for term in CodeTokenizer.terms(text, dropStopWords: true) { terms[term, default: 0] += 1 }
    self.terms = terms
  }
}

/// Restricts a search to paths matching a glob and/or one language.
public struct SearchFilter: Sendable, Hashable {
  public var pathGlob: String?
  public var language: String?

  public init(pathGlob: String? = nil, language: String? = nil) {
    self.pathGlob = pathGlob
    self.language = language
  }

  public static let none = SearchFilter()
}
