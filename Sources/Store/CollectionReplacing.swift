import Foundation
import GRDB

/// A store that can put one collection in another's place in one step. `git rag sync --reindex`
/// then builds the new index aside and swaps it in, so a rebuild that fails (a model error, a
/// full disk, a kill) leaves the old index whole and searchable.
public protocol CollectionReplacing: VectorStore {
  /// Makes `staging` the new `collection` (replacing it if it exists); `staging` is gone after.
  func replaceCollection(_ collection: String, with staging: String) async throws
}

/// The name a rebuild of a collection is built under before it is swapped in.
public enum StagingCollection {
  public static let suffix = ".reindex"
  public static func name(for collection: String) -> String { collection + suffix }
  /// True for a staging name: such collections are never listed (a killed rebuild leaves one).
  public static func isStaging(_ name: String) -> Bool { name.hasSuffix(suffix) }
}

extension SQLiteStore: CollectionReplacing {
  /// Checkpoints both files so each is complete without its write-ahead log, drops the old
  /// file's log, shared memory and vector matrix, and renames the staging file over it: a crash
  /// at any point leaves the old collection or the new one, both whole.
  public func replaceCollection(_ collection: String, with staging: String) async throws {
    let target = try fileURL(collection), source = try fileURL(staging)
    collections.withLock { open in
      open.removeValue(forKey: collection)?.close()
      open.removeValue(forKey: staging)?.close()
    }
    guard FileManager.default.fileExists(atPath: source.path) else {
      throw SQLiteStoreError.collectionNotFound(name: staging, location: location)
    }
    try Self.checkpoint(source)
    // The old file is being replaced: a damaged one (the usual reason for a rebuild) cannot be
    // checkpointed, and need not be.
    if FileManager.default.fileExists(atPath: target.path) { try? Self.checkpoint(target) }
    for suffix in ["-wal", "-shm", "-vectors", "-whole"] {
      try? FileManager.default.removeItem(atPath: target.path + suffix)
    }
    guard rename(source.path, target.path) == 0 else {
      throw SQLiteStoreError.database(
        path: target.path, reason: "cannot replace it with \(source.lastPathComponent): \(String(cString: strerror(errno)))")
    }
    for suffix in ["-wal", "-shm", "-vectors", "-whole"] {
      try? FileManager.default.removeItem(atPath: source.path + suffix)
    }
  }

  /// Moves everything in the file's write-ahead log into the file itself.
  private static func checkpoint(_ url: URL) throws {
    do {
      let queue = try DatabaseQueue(path: url.path)
      try queue.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
      try queue.close()
    } catch let error as DatabaseError {
      throw SQLiteStoreError.from(error, path: url.path)
    }
  }
}
