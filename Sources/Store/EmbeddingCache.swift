import CSQLiteConfig
import Foundation
import GRDB
import GitRAGCore

/// A persistent local cache of embedding vectors keyed by (embedder fingerprint, chunk hash), so
/// the same text is never embedded twice by the same model: across collections, `--reindex`,
/// branches and clones.
///
/// One SQLite file in WAL mode (several git-rag processes may share it), bounded to `maxBytes`:
/// when a write pushes it over, the least recently used vectors are evicted down to 90 %.
/// Being a cache, a damaged file is deleted and started afresh instead of failing the sync.
///
/// It also keeps facts derived from file contents (`fileFacts`), keyed by git blob id, so a sync
/// rescans only the files that changed.
public final class EmbeddingCache: Sendable {
  /// `$XDG_CACHE_HOME/git-rag/embeddings.sqlite`.
  public static var defaultURL: URL { UserPaths.cache.appendingPathComponent("embeddings.sqlite") }

  public let url: URL
  public let maxBytes: Int
  private let pool: DatabasePool

  public init(url: URL = EmbeddingCache.defaultURL, maxBytes: Int = 512 << 20) throws {
    self.url = url
    self.maxBytes = maxBytes
    let folder = url.deletingLastPathComponent()
    do {
      // The user-wide cache folder is private (0700, files 0600), tightened if it was not; a
      // folder named with GIT_RAG_CACHE_PATH is the user's, and only the cache's files are.
      if folder.standardizedFileURL.path == UserPaths.cache.standardizedFileURL.path {
        try PrivateFolder.prepare(folder)
      } else {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      }
      PrivateFolder.createFile(url.path)
      for suffix in ["", "-wal", "-shm"] { try PrivateFolder.tighten(url.path + suffix, to: 0o600) }
    } catch {
      throw SQLiteStoreError.database(path: url.path, reason: "cannot create its folder or make it private: \(error.localizedDescription)")
    }
    do {
      pool = try Self.open(url)
    } catch let error as DatabaseError
      where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode.primaryResultCode)
    {
      for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: url.path + suffix) }
      PrivateFolder.createFile(url.path)
      do { pool = try Self.open(url) } catch let error as DatabaseError { throw SQLiteStoreError.from(error, path: url.path) }
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: url.path)
    }
  }

  private static func open(_ url: URL) throws -> DatabasePool {
    var config = Configuration()
    config.label = "git-rag.embedding-cache"
    config.busyMode = .timeout(10)
    config.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
      // Every sync opens and closes the cache: a checkpoint at each close would cost a few fsyncs
      // at the end of every run. The log is folded in by SQLite's automatic checkpoints instead.
      _ = gitrag_sqlite3_skip_checkpoint_on_close(db.sqliteConnection)
    }
    let pool = try DatabasePool(path: url.path, configuration: config)
    // Every sync opens the cache: only the first one pays for a write transaction.
    if try pool.read({ try $0.tableExists("vectors") && $0.tableExists("cache_state") && $0.tableExists("file_facts") }) {
      return pool
    }
    try pool.write { db in
      try db.execute(
        sql: """
          CREATE TABLE IF NOT EXISTS vectors (
            fingerprint TEXT NOT NULL,
            chunk_hash TEXT NOT NULL,
            vector BLOB NOT NULL, -- float32 little-endian
            bytes INTEGER NOT NULL, -- what the row counts against maxBytes
            last_used INTEGER NOT NULL, -- a logical clock, bumped once per lookup or store
            PRIMARY KEY (fingerprint, chunk_hash)
          ) WITHOUT ROWID;
          CREATE INDEX IF NOT EXISTS vectors_last_used ON vectors(last_used);
          CREATE TABLE IF NOT EXISTS cache_state (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL);
          INSERT OR IGNORE INTO cache_state (key, value) VALUES ('bytes', 0), ('clock', 0);
          CREATE TABLE IF NOT EXISTS file_facts (
            scope TEXT NOT NULL, -- which facts, of which repository
            blob TEXT NOT NULL, -- git blob id
            size INTEGER NOT NULL, -- the blob's size in bytes
            facts BLOB NOT NULL, -- the caller's encoding
            PRIMARY KEY (scope, blob)
          ) WITHOUT ROWID;
          """)
    }
    return pool
  }

  /// The cached vectors of `chunkHashes` for the embedder `fingerprint`; marks them recently used.
  public func vectors(fingerprint: String, chunkHashes: [String]) throws -> [String: [Float]] {
    guard !chunkHashes.isEmpty else { return [:] }
    return try write { db in
      let tick = try Self.tick(db)
      var found: [String: [Float]] = [:]
      let unique = Array(Set(chunkHashes))
      for start in stride(from: 0, to: unique.count, by: 500) {
        let batch = unique[start..<min(start + 500, unique.count)]
        let placeholders = Array(repeating: "?", count: batch.count).joined(separator: ", ")
        var arguments: StatementArguments = [fingerprint]
        arguments += StatementArguments(batch)
        let rows = try Row.fetchCursor(
          db, sql: "SELECT chunk_hash, vector FROM vectors WHERE fingerprint = ? AND chunk_hash IN (\(placeholders))",
          arguments: arguments)
        while let row = try rows.next() {
          found[row[0]] = try row.withUnsafeData(atIndex: 1) { $0.map(VectorBlob.decode) }
        }
        try db.execute(
          sql: "UPDATE vectors SET last_used = ? WHERE fingerprint = ? AND chunk_hash IN (\(placeholders))",
          arguments: [tick] + arguments)
      }
      return found
    }
  }

  /// Stores `vectors` (chunk hash → vector) for the embedder `fingerprint`, then evicts the least
  /// recently used rows if the cache grew past `maxBytes`.
  public func store(fingerprint: String, vectors: [String: [Float]]) throws {
    guard !vectors.isEmpty else { return }
    try write { db in
      let tick = try Self.tick(db)
      let existing = try db.cachedStatement(sql: "SELECT bytes FROM vectors WHERE fingerprint = ? AND chunk_hash = ?")
      let upsert = try db.cachedStatement(
        sql: """
          INSERT INTO vectors (fingerprint, chunk_hash, vector, bytes, last_used) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (fingerprint, chunk_hash) DO UPDATE
          SET vector = excluded.vector, bytes = excluded.bytes, last_used = excluded.last_used
          """)
      var delta = 0
      for (hash, vector) in vectors {
        let bytes = vector.count * 4 + fingerprint.utf8.count + hash.utf8.count + 16
        delta += bytes - (try Int.fetchOne(existing, arguments: [fingerprint, hash]) ?? 0)
        try upsert.execute(arguments: [fingerprint, hash, VectorBlob.encode(vector), bytes, tick])
      }
      try db.execute(sql: "UPDATE cache_state SET value = value + ? WHERE key = 'bytes'", arguments: [delta])
      try evictIfNeeded(db)
    }
  }

  /// Bytes of vectors (and keys) the cache holds, as counted against `maxBytes`.
  public func byteCount() throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT value FROM cache_state WHERE key = 'bytes'") ?? 0 }
  }

  /// Number of cached vectors.
  public func count() throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vectors") ?? 0 }
  }

  /// The cached facts of `scope` (blob id → the blob's size and its facts), read in one query;
  /// rows that `decode` rejects are left out.
  public func fileFacts<Facts>(
    scope: String, decode: (UnsafeRawBufferPointer) -> Facts?
  ) throws -> [String: (size: Int, facts: Facts)] {
    try read { db in
      var out: [String: (size: Int, facts: Facts)] = [:]
      let rows = try Row.fetchCursor(db, sql: "SELECT blob, size, facts FROM file_facts WHERE scope = ?", arguments: [scope])
      while let row = try rows.next() {
        if let facts = try Self.facts(row, at: 2, decode) { out[row[0]] = (row[1], facts) }
      }
      return out
    }
  }

  /// The cached facts of just `blobs` in `scope`.
  public func fileFacts<Facts>(
    scope: String, blobs: [String], decode: (UnsafeRawBufferPointer) -> Facts?
  ) throws -> [String: (size: Int, facts: Facts)] {
    guard !blobs.isEmpty else { return [:] }
    return try read { db in
      var out: [String: (size: Int, facts: Facts)] = [:]
      let select = try db.cachedStatement(sql: "SELECT size, facts FROM file_facts WHERE scope = ? AND blob = ?")
      for blob in Set(blobs) {
        guard let row = try Row.fetchOne(select, arguments: [scope, blob]) else { continue }
        if let facts = try Self.facts(row, at: 1, decode) { out[blob] = (row[0], facts) }
      }
      return out
    }
  }

  /// Column `index` of `row` decoded in place (no copy of the blob).
  private static func facts<Facts>(_ row: Row, at index: Int, _ decode: (UnsafeRawBufferPointer) -> Facts?) throws -> Facts? {
    try row.withUnsafeData(atIndex: index) { data in data.flatMap { data in data.withUnsafeBytes { decode($0) } } }
  }

  /// Stores facts of `scope` (blob id → size and encoded facts). When the scope holds well over
  /// twice as many rows as `live` (the blobs its owner still needs), the others are dropped;
  /// without `live`, nothing is.
  public func storeFileFacts(scope: String, _ facts: [String: (size: Int, facts: [UInt8])], live: Set<String>?) throws {
    guard !facts.isEmpty else { return }
    try write { db in
      let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO file_facts (scope, blob, size, facts) VALUES (?, ?, ?, ?)")
      for (blob, entry) in facts {
        try upsert.execute(arguments: [scope, blob, entry.size, Data(entry.facts)])
      }
      guard let live else { return }
      let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM file_facts WHERE scope = ?", arguments: [scope]) ?? 0
      guard count > 2 * live.count + 1000 else { return }
      let delete = try db.cachedStatement(sql: "DELETE FROM file_facts WHERE scope = ? AND blob = ?")
      let stale = try String.fetchAll(db, sql: "SELECT blob FROM file_facts WHERE scope = ?", arguments: [scope])
        .filter { !live.contains($0) }
      for blob in stale { try delete.execute(arguments: [scope, blob]) }
    }
  }

  /// Deletes the facts of every scope that starts with `scopePrefix` but not with `keeping`
  /// (facts of an older version, which may no longer be wanted on disk).
  public func dropFileFacts(scopePrefix: String, keeping: String) throws {
    let condition = "scope >= ? AND scope < ? AND substr(scope, 1, ?) != ?"
    let arguments: StatementArguments = [scopePrefix, scopePrefix + "\u{10FFFF}", keeping.utf8.count, keeping]
    // Usually there is nothing to drop: a read spares the write lock.
    guard
      try read({ try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM file_facts WHERE \(condition))", arguments: arguments) }) == true
    else { return }
    try write { db in try db.execute(sql: "DELETE FROM file_facts WHERE \(condition)", arguments: arguments) }
  }

  /// Number of cached file facts in `scope`.
  public func fileFactsCount(scope: String) throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM file_facts WHERE scope = ?", arguments: [scope]) ?? 0 }
  }

  private func evictIfNeeded(_ db: Database) throws {
    var total = try Int.fetchOne(db, sql: "SELECT value FROM cache_state WHERE key = 'bytes'") ?? 0
    guard total > maxBytes else { return }
    let target = maxBytes / 10 * 9
    let delete = try db.cachedStatement(sql: "DELETE FROM vectors WHERE fingerprint = ? AND chunk_hash = ?")
    while total > target {
      let oldest = try Row.fetchAll(
        db, sql: "SELECT fingerprint, chunk_hash, bytes FROM vectors ORDER BY last_used LIMIT 256")
      guard !oldest.isEmpty else { break }
      for row in oldest where total > target {
        try delete.execute(arguments: [row[0], row[1]])
        total -= row[2] as Int
      }
    }
    try db.execute(sql: "UPDATE cache_state SET value = ? WHERE key = 'bytes'", arguments: [max(0, total)])
  }

  /// The next value of the logical clock that orders uses.
  private static func tick(_ db: Database) throws -> Int {
    try db.execute(sql: "UPDATE cache_state SET value = value + 1 WHERE key = 'clock'")
    return try Int.fetchOne(db, sql: "SELECT value FROM cache_state WHERE key = 'clock'") ?? 0
  }

  private func read<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try pool.read(body) } catch let error as DatabaseError { throw SQLiteStoreError.from(error, path: url.path) }
  }

  private func write<T>(_ body: (Database) throws -> T) throws -> T {
    do { return try pool.write(body) } catch let error as DatabaseError { throw SQLiteStoreError.from(error, path: url.path) }
  }
}
