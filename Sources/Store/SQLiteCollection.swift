import Foundation
import GRDB
import GitRAGCore

/// One collection's SQLite file: its connection pool (WAL) and its cached vector matrix.
final class SQLiteCollection: Sendable {
  /// Version of the file layout below (`PRAGMA user_version`).
  static let schemaVersion = 1

  let name: String
  let path: String
  private let pool: DatabasePool
  /// The last matrix loaded for vector search; replaced when the collection's generation moves.
  private let matrix = Locked<VectorMatrix?>(nil)

  /// Opens the existing collection file at `url`.
  init(name: String, url: URL, busyTimeout: TimeInterval) throws {
    self.name = name
    path = url.path
    do {
      pool = try DatabasePool(path: url.path, configuration: Self.configuration(name: name, busyTimeout: busyTimeout))
      let version = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
      if version == 0 { throw SQLiteStoreError.corrupt(path: path, reason: "no git-rag tables in it") }
      if version > Self.schemaVersion { throw SQLiteStoreError.newerSchema(path: path, version: version) }
      try rebuildTermsIfTokenizerChanged()
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: url.path)
    }
  }

  /// SQLite's first complaint about the file (`quick_check`, or `integrity_check` when
  /// `thorough`), or nil when it finds none.
  func integrityProblem(thorough: Bool) throws -> String? {
    do {
      let rows = try pool.read { db in try String.fetchAll(db, sql: thorough ? "PRAGMA integrity_check(5)" : "PRAGMA quick_check(5)") }
      return rows == ["ok"] ? nil : rows.joined(separator: "; ")
    } catch let error as DatabaseError {
      if [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode.primaryResultCode) {
        return error.message ?? "SQLite error \(error.resultCode.rawValue)"
      }
      throw SQLiteStoreError.from(error, path: path)
    }
  }

  /// Writes a new collection file at `url` with `metadata`, atomically: it is built beside the
  /// target and renamed into place, so a crash never leaves a half-made collection.
  static func create(name: String, url: URL, metadata: IndexMetadata) throws {
    let staging = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
    defer {
      for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging.path + suffix) }
    }
    do {
      let queue = try DatabaseQueue(path: staging.path)
      // 8 KiB pages: a chunk of a few KB plus its 1.5 KB vector fits one page.
      try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA page_size = 8192") }
      try queue.write { db in
        try db.execute(sql: schema)
        try db.execute(
          sql: "INSERT INTO store_state (key, value) VALUES ('generation', 0), ('instance', ?), ('fts_terms', ?)",
          arguments: [Int64.random(in: 1...Int64.max), FTSDocument.termsFingerprint])
        try writeMetadata(metadata, db)
        try db.execute(sql: "PRAGMA user_version = \(schemaVersion)")
      }
      try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
      try queue.close()
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: url.path)
    }
    do {
      try FileManager.default.moveItem(at: staging, to: url)
    } catch {
      if FileManager.default.fileExists(atPath: url.path) {
        throw SQLiteStoreError.collectionExists(name: name, path: url.path)
      }
      throw SQLiteStoreError.database(path: url.path, reason: error.localizedDescription)
    }
  }

  private static let schema = """
    CREATE TABLE points (
      id TEXT NOT NULL PRIMARY KEY,
      file_path TEXT NOT NULL,
      chunk_index INTEGER NOT NULL,
      start_line INTEGER NOT NULL,
      end_line INTEGER NOT NULL,
      language TEXT NOT NULL,
      symbol TEXT,
      file_hash TEXT NOT NULL,
      chunk_hash TEXT NOT NULL,
      "commit" TEXT NOT NULL,
      timestamp TEXT NOT NULL,
      vector BLOB, -- float32 little-endian; NULL for keyword-only points
      -- Last, so that reading the other columns (vector search loads path, language and vector of
      -- every row) stays on the row's first page instead of following content's overflow pages.
      content TEXT NOT NULL
    );
    -- (file_path, file_hash) also serves the inventory without touching the table.
    CREATE INDEX points_file_path ON points(file_path, file_hash);
    CREATE INDEX points_chunk_hash ON points(chunk_hash);
    CREATE INDEX points_file_hash ON points(file_hash);
    CREATE TABLE metadata (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
    -- generation: bumped by every write to points (invalidates cached vectors, also in other processes);
    -- fts_terms: the tokenizer fingerprint the FTS index was built with.
    CREATE TABLE store_state (key TEXT NOT NULL PRIMARY KEY, value NOT NULL);
    -- Contentless: the terms are derived from points (FTSDocument), keyed by points.rowid.
    CREATE VIRTUAL TABLE fts USING fts5(
      body, symbol, path, content='', tokenize="unicode61 remove_diacritics 0 tokenchars '_'"
    );
    """

  private static func configuration(name: String, busyTimeout: TimeInterval) -> Configuration {
    var config = Configuration()
    config.label = "git-rag.\(name)"
    config.busyMode = .timeout(busyTimeout)
    // NORMAL is safe in WAL mode: a power cut may drop the last commits, never corrupt, and
    // last_indexed_commit is written last, so a lost tail is redone by the next sync.
    config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    return config
  }

  static func writeMetadata(_ metadata: IndexMetadata, _ db: Database) throws {
    try db.execute(sql: "DELETE FROM metadata")
    let insert = try db.cachedStatement(sql: "INSERT INTO metadata (key, value) VALUES (?, ?)")
    for (key, value) in metadata.fields.sorted(by: { $0.key < $1.key }) { try insert.execute(arguments: [key, value]) }
  }

  static func readMetadata(_ db: Database) throws -> IndexMetadata? {
    var fields: [String: String] = [:]
    for row in try Row.fetchAll(db, sql: "SELECT key, value FROM metadata") { fields[row[0]] = row[1] }
    return fields.isEmpty ? nil : IndexMetadata(fields: fields)
  }

  static func dimension(_ db: Database) throws -> Int {
    try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = 'dimension'").flatMap(Int.init) ?? 0
  }

  // MARK: - Access

  func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    do {
      return try await pool.read(body)
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: path)
    }
  }

  /// One write transaction. `changesPoints` bumps the generation, which retires cached vectors.
  func write<T: Sendable>(changesPoints: Bool, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
    do {
      let result = try await pool.write { db in
        let result = try body(db)
        if changesPoints {
          try db.execute(sql: "UPDATE store_state SET value = value + 1 WHERE key = 'generation'")
        }
        return result
      }
      if changesPoints { matrix.withLock { $0 = nil } }
      return result
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: path)
    }
  }

  func close() {
    matrix.withLock { $0 = nil }
    try? pool.close()
  }

  /// Moves the write-ahead log into the file and empties the log, waiting at most 50 ms for
  /// readers to leave it; false when a reader kept it.
  func checkpointIntoFile() -> Bool {
    let row = try? pool.writeWithoutTransaction { db -> Row? in
      let timeout = try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0
      try db.execute(sql: "PRAGMA busy_timeout = 50")
      defer { try? db.execute(sql: "PRAGMA busy_timeout = \(timeout)") }
      return try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    }
    // (busy, frames in the log, frames checkpointed)
    guard let row = row ?? nil else { return false }
    return (row[0] as Int?) == 0
  }

  /// The vector matrix for the snapshot `db` reads: the cached one if no write happened since,
  /// else the matrix file beside the collection if it is current, else one loaded from the rows
  /// (and written to that file for the next process).
  func vectorMatrix(_ db: Database, dimension: Int) throws -> VectorMatrix {
    var generation: Int64 = 0, instance: Int64 = 0
    for row in try Row.fetchAll(db, sql: "SELECT key, value FROM store_state WHERE key IN ('generation', 'instance')") {
      let key: String = row[0]
      if key == "generation" { generation = row[1] } else { instance = row[1] }
    }
    if let cached = matrix.withLock({ $0 }), cached.generation == generation, cached.dimension == dimension {
      return cached
    }
    let file = path + "-vectors"
    let loaded: VectorMatrix
    if let mapped = MatrixFile.read(path: file, collectionPath: path, instance: instance, generation: generation, dimension: dimension) {
      loaded = mapped
    } else {
      loaded = try VectorMatrix(loadingFrom: db, generation: generation, dimension: dimension)
      MatrixFile.write(loaded, path: file, collectionPath: path, instance: instance)
    }
    matrix.withLock { current in
      if current == nil || current!.generation <= generation { current = loaded }
    }
    return loaded
  }

  // MARK: - Full-text index

  /// Adds the terms of one point to the FTS index under `rowID`.
  static func indexTerms(_ db: Database, rowID: Int64, content: String, symbol: String?, path: String) throws {
    let doc = FTSDocument(content: content, symbol: symbol, path: path)
    try db.cachedStatement(sql: "INSERT INTO fts (rowid, body, symbol, path) VALUES (?, ?, ?, ?)")
      .execute(arguments: [rowID, doc.body, doc.symbol, doc.path])
  }

  /// Removes the terms of one point: a contentless FTS5 table needs the very values it was given,
  /// which `FTSDocument` recomputes from the stored row (the fingerprint check keeps them identical).
  static func unindexTerms(_ db: Database, rowID: Int64, content: String, symbol: String?, path: String) throws {
    let doc = FTSDocument(content: content, symbol: symbol, path: path)
    try db.cachedStatement(sql: "INSERT INTO fts (fts, rowid, body, symbol, path) VALUES ('delete', ?, ?, ?, ?)")
      .execute(arguments: [rowID, doc.body, doc.symbol, doc.path])
  }

  /// Deletes the points matching `condition` (with `arguments`), and their terms.
  static func deletePoints(_ db: Database, where condition: String, arguments: StatementArguments) throws {
    let rows = try Row.fetchCursor(
      db, sql: "SELECT rowid, content, symbol, file_path FROM points WHERE \(condition)", arguments: arguments)
    while let row = try rows.next() {
      try unindexTerms(db, rowID: row[0], content: row[1], symbol: row[2], path: row[3])
    }
    try db.execute(sql: "DELETE FROM points WHERE \(condition)", arguments: arguments)
  }

  /// If CodeTokenizer changed since the FTS index was built, rebuilds it from the stored points.
  private func rebuildTermsIfTokenizerChanged() throws {
    let current = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM store_state WHERE key = 'fts_terms'") }
    guard current != FTSDocument.termsFingerprint else { return }
    try pool.write { db in
      try db.execute(sql: "INSERT INTO fts (fts) VALUES ('delete-all')")
      let rows = try Row.fetchCursor(db, sql: "SELECT rowid, content, symbol, file_path FROM points")
      while let row = try rows.next() {
        try Self.indexTerms(db, rowID: row[0], content: row[1], symbol: row[2], path: row[3])
      }
      try db.execute(
        sql: "INSERT OR REPLACE INTO store_state (key, value) VALUES ('fts_terms', ?)",
        arguments: [FTSDocument.termsFingerprint])
    }
  }
}

/// The three FTS columns of a point: chunk terms, symbol terms, path terms, each the
/// `CodeTokenizer` terms joined by spaces (so FTS5 sees identifiers whole and split).
struct FTSDocument {
  var body: String
  var symbol: String
  var path: String

  init(content: String, symbol: String?, path: String) {
    body = CodeTokenizer.terms(content).joined(separator: " ")
    self.symbol = symbol.map { CodeTokenizer.terms($0).joined(separator: " ") } ?? ""
    self.path = CodeTokenizer.terms(path).joined(separator: " ")
  }

  /// Column weights for `bm25()`: a hit in a symbol counts double, in the path 1.5 times.
  static let bm25Weights = "1.0, 2.0, 1.5"

  /// The tokenizer's output on a probe covering its rules; stored with the index, so a changed
  /// tokenizer triggers a rebuild instead of leaving stale terms that can no longer be deleted.
  static let termsFingerprint: String = {
    let probe = "parseHTTPResponse max_retries os.path.join Größe x2y 3.14 __init__ a I ÉTÉ getURL2Value"
    return SHA256Digest.hex(CodeTokenizer.terms(probe).joined(separator: " "))
  }()
}
