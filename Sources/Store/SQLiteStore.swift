import Foundation
import GRDB
import GitRAGCore

/// The embedded default store: one SQLite file per collection, `<directory>/<collection>.sqlite`.
///
/// Each file holds the points (payload columns plus the vector as a float32 blob), the collection
/// metadata, and a contentless FTS5 index of the chunks' `CodeTokenizer` terms for BM25. Files run
/// in WAL mode, so searches never wait for a sync; every write method is one transaction.
/// Vector search is exact: all vectors of a collection are kept in memory after the first search
/// and scored with SIMD, then only the best rows' payloads are read.
public final class SQLiteStore: VectorStore {
  /// The folder holding the collection files (the sync engine uses `<common git dir>/rag`).
  public let directory: URL
  /// How long a write waits for another process's write before failing with a "locked" error.
  public let busyTimeout: TimeInterval
  let collections = Locked<[String: SQLiteCollection]>([:])

  public init(directory: URL, busyTimeout: TimeInterval = 10) {
    self.directory = directory.standardizedFileURL
    self.busyTimeout = busyTimeout
  }

  deinit {
    collections.withLock { open in
      for collection in open.values { collection.close() }
    }
  }

  public var location: String { "sqlite:\(directory.path)" }

  /// The file of `collection` (whether or not it exists); throws for an invalid name.
  public func fileURL(_ collection: String) throws -> URL {
    try Self.validate(collection)
    return directory.appendingPathComponent("\(collection).sqlite")
  }

  /// Collection names become file names: letters, digits, `-`, `_` and `.`, not starting with `.`.
  public static func validate(_ collection: String) throws {
    let allowed = collection.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
    }
    guard allowed, !collection.isEmpty, collection.count <= 128, !collection.hasPrefix(".") else {
      throw SQLiteStoreError.invalidCollectionName(collection)
    }
  }

  // MARK: - Collections

  public func listCollections() async throws -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
    return names.compactMap { file -> String? in
      guard file.hasSuffix(".sqlite") else { return nil }
      let name = String(file.dropLast(".sqlite".count))
      return (try? Self.validate(name)) == nil || StagingCollection.isStaging(name) ? nil : name
    }.sorted()
  }

  public func collectionExists(_ collection: String) async throws -> Bool {
    FileManager.default.fileExists(atPath: try fileURL(collection).path)
  }

  public func createCollection(_ collection: String, metadata: IndexMetadata) async throws {
    let url = try fileURL(collection)
    if FileManager.default.fileExists(atPath: url.path) {
      throw SQLiteStoreError.collectionExists(name: collection, path: url.path)
    }
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw SQLiteStoreError.database(path: directory.path, reason: "cannot create the folder: \(error.localizedDescription)")
    }
    try SQLiteCollection.create(name: collection, url: url, metadata: metadata)
  }

  public func deleteCollection(_ collection: String) async throws {
    let url = try fileURL(collection)
    // Never opens the file, so a corrupt collection can be deleted too.
    collections.withLock { open in
      open.removeValue(forKey: collection)?.close()
    }
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw SQLiteStoreError.collectionNotFound(name: collection, location: location)
    }
    for suffix in ["-vectors", "-wal", "-shm", "-whole", ""] {
      let file = url.path + suffix
      guard FileManager.default.fileExists(atPath: file) else { continue }
      do {
        try FileManager.default.removeItem(atPath: file)
      } catch {
        throw SQLiteStoreError.database(path: file, reason: "cannot delete: \(error.localizedDescription)")
      }
    }
  }

  public func info(_ collection: String) async throws -> CollectionInfo {
    try await open(collection).read { db in
      var points = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM points") ?? 0
      let files = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT file_path) FROM points") ?? 0
      let metadata = try SQLiteCollection.readMetadata(db)
      if let targets = metadata?.pendingTargets.values, !targets.isEmpty {
        // An interrupted sync may have left two versions of a file: count the recorded one only.
        let list = Array(Set(targets)), marks = Array(repeating: "?", count: list.count).joined(separator: ",")
        points -=
          try Int.fetchOne(
            db,
            sql: """
              SELECT COUNT(*) FROM points p WHERE p."commit" IN (\(marks)) AND EXISTS (
                SELECT 1 FROM points q WHERE q.file_path = p.file_path AND q.file_hash != p.file_hash AND q."commit" NOT IN (\(marks)))
              """,
            arguments: StatementArguments(list + list)) ?? 0
      }
      return CollectionInfo(
        name: collection, points: points, files: files, dimension: try SQLiteCollection.dimension(db), metadata: metadata)
    }
  }

  public func metadata(_ collection: String) async throws -> IndexMetadata? {
    try await open(collection).read { db in try SQLiteCollection.readMetadata(db) }
  }

  public func setMetadata(_ collection: String, _ metadata: IndexMetadata) async throws {
    try await open(collection).write(changesPoints: false) { db in
      if let stored = try Int.fetchOne(db, sql: "SELECT length(vector) / 4 FROM points WHERE vector IS NOT NULL LIMIT 1"),
        stored != metadata.dimension
      {
        // Vectors of another length are already stored: the new dimension would orphan them.
        throw SQLiteStoreError.dimensionMismatch(collection: collection, expected: stored, actual: metadata.dimension)
      }
      try SQLiteCollection.writeMetadata(metadata, db)
    }
  }

  // MARK: - Writes

  public func upsert(_ collection: String, points: [Point]) async throws {
    guard !points.isEmpty else { return }
    try await open(collection).write(changesPoints: true) { db in
      let dimension = try SQLiteCollection.dimension(db)
      for point in points {
        if let vector = point.vector, vector.count != dimension {
          throw SQLiteStoreError.dimensionMismatch(collection: collection, expected: dimension, actual: vector.count)
        }
      }
      let find = try db.cachedStatement(sql: "SELECT rowid, content, symbol, file_path FROM points WHERE id = ?")
      let insert = try db.cachedStatement(
        sql: """
          INSERT INTO points (file_path, content, chunk_index, start_line, end_line, language, symbol,
            file_hash, chunk_hash, "commit", timestamp, vector, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """)
      let update = try db.cachedStatement(
        sql: """
          UPDATE points SET file_path = ?, content = ?, chunk_index = ?, start_line = ?, end_line = ?, language = ?,
            symbol = ?, file_hash = ?, chunk_hash = ?, "commit" = ?, timestamp = ?, vector = ? WHERE rowid = ?
          """)
      for point in points {
        let p = point.payload
        var arguments: StatementArguments = [
          p.filePath, p.content, p.chunkIndex, p.startLine, p.endLine, p.language, p.symbol,
          p.fileHash, p.chunkHash, p.commit, p.timestamp, point.vector.map(VectorBlob.encode),
        ]
        if let old = try Row.fetchOne(find, arguments: [point.id]) {
          let rowID: Int64 = old[0]
          arguments += [rowID]
          try update.execute(arguments: arguments)
          let (content, symbol, path): (String, String?, String) = (old[1], old[2], old[3])
          // Same point id almost always means same text: skip re-indexing the terms then.
          if content != p.content || symbol != p.symbol || path != p.filePath {
            try SQLiteCollection.unindexTerms(db, rowID: rowID, content: content, symbol: symbol, path: path)
            try SQLiteCollection.indexTerms(db, rowID: rowID, content: p.content, symbol: p.symbol, path: p.filePath)
          }
        } else {
          arguments += [point.id]
          try insert.execute(arguments: arguments)
          try SQLiteCollection.indexTerms(
            db, rowID: db.lastInsertedRowID, content: p.content, symbol: p.symbol, path: p.filePath)
        }
      }
    }
  }

  public func deleteFiles(_ collection: String, paths: [String]) async throws {
    guard !paths.isEmpty else { return }
    try await open(collection).write(changesPoints: true) { db in
      for batch in Self.batches(paths) {
        try SQLiteCollection.deletePoints(
          db, where: "file_path IN (\(Self.placeholders(batch.count)))", arguments: StatementArguments(batch))
      }
    }
  }

  public func deleteStale(_ collection: String, keeping files: [String: String]) async throws {
    guard !files.isEmpty else { return }
    try await open(collection).write(changesPoints: true) { db in
      for (path, hash) in files.sorted(by: { $0.key < $1.key }) {
        try SQLiteCollection.deletePoints(db, where: "file_path = ? AND file_hash != ?", arguments: [path, hash])
      }
    }
  }

  public func deletePoints(_ collection: String, ids: [String]) async throws {
    guard !ids.isEmpty else { return }
    try await open(collection).write(changesPoints: true) { db in
      for batch in Self.batches(ids) {
        try SQLiteCollection.deletePoints(
          db, where: "id IN (\(Self.placeholders(batch.count)))", arguments: StatementArguments(batch))
      }
    }
  }

  // MARK: - Reads

  public func inventory(_ collection: String) async throws -> [String: String] {
    try await open(collection).read { db in
      var inventory: [String: String] = [:]
      let rows = try Row.fetchCursor(db, sql: "SELECT DISTINCT file_path, file_hash FROM points")
      while let row = try rows.next() { inventory[row[0]] = row[1] }
      return inventory
    }
  }

  public func fileHash(_ collection: String, filePath: String) async throws -> String? {
    try await open(collection).read { db in
      // Two seeks in the (file_path, file_hash) index: the lowest and highest hash of the file.
      let lowest = try String.fetchOne(
        db, sql: "SELECT file_hash FROM points WHERE file_path = ? ORDER BY file_hash LIMIT 1", arguments: [filePath])
      guard let lowest else { return nil }
      let highest = try String.fetchOne(
        db, sql: "SELECT file_hash FROM points WHERE file_path = ? ORDER BY file_hash DESC LIMIT 1", arguments: [filePath])
      return highest == lowest ? lowest : nil
    }
  }

  public func points(_ collection: String, filePaths: [String]) async throws -> [Point] {
    guard !filePaths.isEmpty else { return [] }
    return try await open(collection).read { db in
      var points: [Point] = []
      for batch in Self.batches(filePaths) {
        let rows = try Row.fetchCursor(
          db,
          sql: """
            SELECT \(Self.payloadColumns), p.vector FROM points p
            WHERE p.file_path IN (\(Self.placeholders(batch.count))) ORDER BY p.file_path, p.chunk_index
            """,
          arguments: StatementArguments(batch))
        while let row = try rows.next() {
          var point = Point(payload: Self.payload(row), vector: try row.withUnsafeData(atIndex: 12) { $0.map(VectorBlob.decode) })
          point.id = row[0]
          points.append(point)
        }
      }
      return points
    }
  }

  public func vectors(_ collection: String, chunkHashes: [String]) async throws -> [String: [Float]] {
    guard !chunkHashes.isEmpty else { return [:] }
    return try await open(collection).read { db in
      var vectors: [String: [Float]] = [:]
      for batch in Self.batches(Array(Set(chunkHashes))) {
        let rows = try Row.fetchCursor(
          db,
          sql: """
            SELECT chunk_hash, vector FROM points
            WHERE vector IS NOT NULL AND chunk_hash IN (\(Self.placeholders(batch.count)))
            """,
          arguments: StatementArguments(batch))
        while let row = try rows.next() {
          let hash: String = row[0]
          if vectors[hash] == nil { vectors[hash] = try row.withUnsafeData(atIndex: 1) { $0.map(VectorBlob.decode) } }
        }
      }
      return vectors
    }
  }

  public func count(_ collection: String) async throws -> Int {
    try await open(collection).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM points") ?? 0 }
  }

  // MARK: - Search

  /// BM25 over chunk terms, symbol terms and path terms (weights `FTSDocument.bm25Weights`).
  ///
  /// The query is an OR of the quoted terms. FTS5's bm25 has no per-term weights, so a term of
  /// weight w is repeated round(w) times (1...4): bm25 sums over query phrases, so a repeated term
  /// counts that many times. Score is -bm25 (higher is better).
  public func keywordSearch(
    _ collection: String, query: KeywordQuery, limit: Int, filter: SearchFilter
  ) async throws -> [SearchHit] {
    let handle = try open(collection)
    guard limit > 0, let match = Self.matchExpression(query) else { return [] }
    let glob = filter.pathGlob.map(PathGlob.init)
    let language = filter.language
    return try await handle.read { db in
      var conditions = ["fts MATCH ?"]
      var arguments: StatementArguments = [match]
      if let language {
        conditions.append("p.language = ?")
        arguments += [language]
      }
      let function = glob.map { glob in
        DatabaseFunction("git_rag_path_matches", argumentCount: 1, pure: true) { values in
          String.fromDatabaseValue(values[0]).map(glob.matches) ?? false
        }
      }
      if let function {
        db.add(function: function)
        conditions.append("git_rag_path_matches(p.file_path)")
      }
      defer { if let function { db.remove(function: function) } }
      arguments += [limit]
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT \(Self.payloadColumns), bm25(fts, \(FTSDocument.bm25Weights)) AS bm25
          FROM fts JOIN points p ON p.rowid = fts.rowid
          WHERE \(conditions.joined(separator: " AND "))
          ORDER BY bm25 LIMIT ?
          """,
        arguments: arguments)
      return rows.enumerated().map { index, row in
        SearchHit(payload: Self.payload(row), score: -(row[12] as Double), keywordRank: index + 1)
      }
    }
  }

  /// Exact cosine similarity against every stored vector (or every vector passing the filter).
  public func vectorSearch(
    _ collection: String, vector: [Float], limit: Int, filter: SearchFilter
  ) async throws -> [SearchHit] {
    let handle = try open(collection)
    let glob = filter.pathGlob.map(PathGlob.init)
    let language = filter.language
    return try await handle.read { db in
      let dimension = try SQLiteCollection.dimension(db)
      guard vector.count == dimension, dimension > 0 else {
        throw SQLiteStoreError.dimensionMismatch(collection: collection, expected: dimension, actual: vector.count)
      }
      guard limit > 0 else { return [] }
      let matrix = try handle.vectorMatrix(db, dimension: dimension)
      let candidates = matrix.candidates(
        for: vector, limit: limit, filter: matrix.rowFilter(pathGlob: glob, language: language))
      guard !candidates.isEmpty else { return [] }
      // Exact scores of the candidates from their float32 rows (same snapshot as the matrix).
      let candidateRowIDs = candidates.map { matrix.rowIDs[$0] }
      let query = VectorMatrix.unit(vector)
      var scratch = [Float](repeating: 0, count: dimension)
      var exact = TopK(limit: limit)
      var scored: [Int64] = []
      for batch in Self.batches(candidateRowIDs) {
        let rows = try Row.fetchCursor(
          db, sql: "SELECT rowid, vector FROM points WHERE rowid IN (\(Self.placeholders(batch.count)))",
          arguments: StatementArguments(batch))
        while let row = try rows.next() {
          let score = try row.withUnsafeData(atIndex: 1) { blob -> Float? in
            guard let blob, blob.count == dimension * 4 else { return nil }
            return query.withUnsafeBufferPointer { q in
              scratch.withUnsafeMutableBufferPointer { s in
                VectorMatrix.cosine(unitQuery: q.baseAddress!, blob, scratch: s.baseAddress!, dimension)
              }
            }
          }
          guard let score else { continue }
          exact.offer(score, Int32(scored.count))
          scored.append(row[0])
        }
      }
      let best = exact.sorted()
      let rowIDs = best.map { scored[$0.row] }
      var payloads: [Int64: ChunkPayload] = [:]
      let rows = try Row.fetchCursor(
        db,
        sql: "SELECT \(Self.payloadColumns), p.rowid FROM points p WHERE p.rowid IN (\(Self.placeholders(rowIDs.count)))",
        arguments: StatementArguments(rowIDs))
      while let row = try rows.next() { payloads[row[12]] = Self.payload(row) }
      // A row deleted since the matrix was loaded cannot be in this snapshot; skip it.
      return zip(rowIDs, best).compactMap { rowID, hit in payloads[rowID].map { (payload: $0, score: hit.score) } }
        .enumerated().map { SearchHit(payload: $1.payload, score: Double($1.score), vectorRank: $0 + 1) }
    }
  }

  // MARK: - Integrity

  /// The file's header and size first (a garbage or truncated file gets a precise reason without
  /// being opened), then SQLite's `quick_check` (every page and row) or, when `thorough`,
  /// `integrity_check` (also every index against its table).
  public func checkIntegrity(_ collection: String, thorough: Bool) async throws {
    let url = try fileURL(collection)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw SQLiteStoreError.collectionNotFound(name: collection, location: location)
    }
    if let reason = Self.headerProblem(url) { throw SQLiteStoreError.corrupt(path: url.path, reason: reason) }
    let handle = try open(collection)
    if let problem = try handle.integrityProblem(thorough: thorough) {
      throw SQLiteStoreError.corrupt(path: url.path, reason: problem)
    }
  }

  /// Why the file cannot be a whole SQLite database, judged from its first 100 bytes and its size.
  static func headerProblem(_ url: URL) -> String? {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
    defer { try? handle.close() }
    let header = (try? handle.read(upToCount: 100)) ?? Data()
    guard header.count == 100, header.prefix(16) == Data("SQLite format 3\0".utf8) else {
      return "it is not a SQLite database"
    }
    let bytes = [UInt8](header)
    let rawPageSize = Int(bytes[16]) << 8 | Int(bytes[17])
    let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
    let pages = bytes[28..<32].reduce(0) { $0 << 8 | Int($1) }
    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    if pageSize >= 512, pages > 0, size < pages * pageSize {
      return "it is truncated: \(size) bytes where its header promises \(pages * pageSize)"
    }
    return nil
  }

  // MARK: - Whole since the last check

  /// `<collection>.sqlite-whole` records the file as the last passed check and the writes of the
  /// sync that ran it left it: its inode, its size and a modification time set on purpose in the
  /// past, which any later write to the file replaces with the present (in any process, to the
  /// kernel's clock tick, however soon after). Only the file counts: SQLite moves the log into it
  /// by checkpoints, which write the file, and reads only the log's frames whose checksums hold.
  public func isUnchangedSinceWhole(_ collection: String) async -> Bool {
    guard let url = try? fileURL(collection), let recorded = try? String(contentsOfFile: url.path + "-whole", encoding: .utf8)
    else { return false }
    return recorded == Self.identity(url.path)
  }

  public func recordWhole(_ collection: String) async {
    guard let url = try? fileURL(collection) else { return }
    let record = url.path + "-whole"
    try? FileManager.default.removeItem(atPath: record)
    guard let handle = try? open(collection), handle.checkpointIntoFile() else { return }
    let past = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 1).rounded(.down) + 0.123_456)
    guard (try? FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: url.path)) != nil,
      let identity = Self.identity(url.path)
    else { return }
    try? Data(identity.utf8).write(to: URL(fileURLWithPath: record), options: .atomic)
  }

  /// Inode, size and modification time of the file at `path`.
  static func identity(_ path: String) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      let inode = attributes[.systemFileNumber] as? NSNumber, let size = attributes[.size] as? NSNumber,
      let modified = attributes[.modificationDate] as? Date
    else { return nil }
    return "\(inode) \(size) \(modified.timeIntervalSince1970.bitPattern)\n"
  }

  // MARK: - Internals

  /// The open collection, opening (and caching) its file on first use.
  private func open(_ collection: String) throws -> SQLiteCollection {
    let url = try fileURL(collection)
    return try collections.withLock { open in
      guard FileManager.default.fileExists(atPath: url.path) else {
        open.removeValue(forKey: collection)?.close()
        throw SQLiteStoreError.collectionNotFound(name: collection, location: location)
      }
      if let handle = open[collection] { return handle }
      let handle = try SQLiteCollection(name: collection, url: url, busyTimeout: busyTimeout)
      open[collection] = handle
      return handle
    }
  }

  /// Columns 0...11: id, then the payload in `payload(_:)` order.
  private static let payloadColumns = """
    p.id, p.file_path, p.content, p.chunk_index, p.start_line, p.end_line, p.language, p.symbol,
    p.file_hash, p.chunk_hash, p."commit", p.timestamp
    """

  private static func payload(_ row: Row) -> ChunkPayload {
    ChunkPayload(
      filePath: row[1], content: row[2], chunkIndex: row[3], startLine: row[4], endLine: row[5], language: row[6],
      symbol: row[7], fileHash: row[8], chunkHash: row[9], commit: row[10], timestamp: row[11])
  }

  /// An FTS5 query OR-ing the quoted terms (repeated by weight); nil when nothing is searchable.
  static func matchExpression(_ query: KeywordQuery) -> String? {
    var phrases: [String] = []
    for (term, weight) in query.terms.sorted(by: { $0.key < $1.key }) where weight > 0 {
      let term = term.lowercased()
      guard term.unicodeScalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) else {
        continue
      }
      let quoted = "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
      let repeats = min(4, max(1, Int(weight.rounded())))
      phrases += Array(repeating: quoted, count: repeats)
    }
    return phrases.isEmpty ? nil : phrases.joined(separator: " OR ")
  }

  /// Keeps `IN (...)` lists well under SQLite's variable limit.
  private static func batches<T>(_ values: [T], size: Int = 500) -> [ArraySlice<T>] {
    stride(from: 0, to: values.count, by: size).map { values[$0..<min($0 + size, values.count)] }
  }

  private static func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
  }
}
