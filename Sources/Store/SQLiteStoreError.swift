import Foundation
import GRDB
import GitRAGCore

/// What can go wrong with the embedded store, each with the way out.
public enum SQLiteStoreError: UserFacingError, Equatable {
  case invalidCollectionName(String)
  case collectionExists(name: String, path: String)
  case collectionNotFound(name: String, location: String)
  /// The file is not a SQLite database, or not one git-rag wrote, or damaged.
  case corrupt(path: String, reason: String)
  case locked(path: String)
  case newerSchema(path: String, version: Int)
  case dimensionMismatch(collection: String, expected: Int, actual: Int)
  /// Any other SQLite or file-system failure (permissions, disk full, ...).
  case database(path: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .invalidCollectionName(name):
      "Invalid collection name '\(name)': use 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'."
    case let .collectionExists(name, path):
      "Collection \(name) already exists at \(path). Use another name or `git rag collection delete \(name)`."
    case let .collectionNotFound(name, location):
      "Collection \(name) not found in \(location). Run `git rag sync` to create it or `git rag collection list`."
    case let .corrupt(path, reason):
      "The index file \(path) is damaged or not a git-rag database (\(reason)). Rebuild it with `git rag sync --reindex`, or remove it with `git rag collection delete \(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)`."
    case let .locked(path):
      "The index file \(path) is locked by another process. Wait for the other git-rag (or sqlite) to finish and retry."
    case let .newerSchema(path, version):
      "The index file \(path) has schema version \(version), newer than this git-rag understands. Upgrade git-rag or rebuild it with `git rag sync --reindex`."
    case let .dimensionMismatch(collection, expected, actual) where expected == 0:
      "Collection \(collection) is keyword-only (no vectors) but got a \(actual)-dimensional vector. Search it by keywords or re-index it with an embedder."
    case let .dimensionMismatch(collection, expected, actual):
      "Collection \(collection) holds \(expected)-dimensional vectors but got \(actual). Use the embedder it was built with or rebuild it with `git rag sync --reindex`."
    case let .database(path, reason):
      "SQLite failed on \(path): \(reason). Check the file's permissions and free disk space."
    }
  }

  /// Maps a SQLite failure on the file at `path` to what the user can do about it.
  static func from(_ error: DatabaseError, path: String) -> SQLiteStoreError {
    let reason = error.message ?? "SQLite error \(error.resultCode.rawValue)"
    switch error.resultCode.primaryResultCode {
    case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .corrupt(path: path, reason: reason)
    case .SQLITE_BUSY, .SQLITE_LOCKED: return .locked(path: path)
    default: return .database(path: path, reason: reason)
    }
  }
}
