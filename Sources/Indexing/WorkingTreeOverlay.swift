import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// Files of the working tree, read from disk (the uncommitted versions of changed paths).
public final class WorkingTreeSource: ContentSource {
  public let repository: Repository
  public let root: URL
  private let entries: [SourceFile]
  public var revision: String? { nil }
  public var identity: String { root.path }

  /// The working-tree versions of `paths` (files that no longer exist are left out).
  public init(repository: Repository, paths: [String]) throws {
    guard let root = repository.workdir else { throw GitRAGError("This repository has no working tree.") }
    self.repository = repository
    self.root = root
    var entries: [SourceFile] = []
    for path in paths {
      let url = root.appendingPathComponent(path)
      var info = stat()
      guard lstat(url.path, &info) == 0 else { continue }
      switch info.st_mode & S_IFMT {
      case S_IFLNK:
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)) ?? ""
        entries.append(SourceFile(path: path, hash: GitBlob.id(of: Data(target.utf8)).hex, kind: .symlink))
      case S_IFREG:
        let kind: FileKind = info.st_mode & S_IXUSR != 0 ? .executable : .regular
        entries.append(SourceFile(path: path, hash: try GitBlob.id(ofFileAt: url).hex, kind: kind))
      case S_IFDIR:
        // A nested repository or an untracked submodule: not a file.
        entries.append(SourceFile(path: path, hash: "", kind: .submodule))
      default:
        continue
      }
    }
    self.entries = entries
  }

  public func files() throws -> [SourceFile] { entries }

  public func size(of file: SourceFile) throws -> Int {
    var info = stat()
    guard lstat(root.appendingPathComponent(file.path).path, &info) == 0 else { return 0 }
    return Int(info.st_size)
  }

  public func read(_ file: SourceFile) throws -> Data {
    try Data(contentsOf: root.appendingPathComponent(file.path))
  }

  public func ragAttribute(_ path: String) -> RagAttribute {
    // The working tree's own .gitattributes (then the index), as git itself reads them.
    switch repository.attribute("rag", path: path) {
    case .set: .forceInclude
    case .unset: .exclude
    case .value(let v) where v == "false" || v == "0": .exclude
    case .value: .forceInclude
    case .unspecified: .unspecified
    }
  }
}

/// What a search needs to know about the working tree: which paths it replaces, and where their
/// uncommitted chunks are.
public struct WorkingTreeView: Sendable {
  /// The overlay's store and collection (the uncommitted chunks).
  public let store: any VectorStore
  public let collection: String
  /// Every path whose working-tree state differs from HEAD, with how.
  public let changes: [WorkingTreeChange]
  /// Working-tree blob id of each changed file that exists.
  public let blobIDs: [String: String]
  /// False when the overlay holds no chunks (nothing changed, or only files the filters skip).
  public let hasChunks: Bool

  /// Paths whose committed chunks must not be shown: modified, added and deleted alike.
  public var replacedPaths: Set<String> { Set(changes.map(\.path)) }
}

/// The uncommitted versions of changed files, chunked and embedded into a small collection of
/// their own (one per repository and collection, beside the committed store), keyed by their
/// working-tree blob ids. Never written into the committed index: a sync, its invariant and the
/// hooks do not see it.
public struct WorkingTreeOverlay: Sendable {
  public let store: SQLiteStore
  public let collection: String

  /// The overlay of `collection`, in `directory` (the committed store's folder, or `.git/rag`).
  public init(directory: URL, collection: String) {
    store = SQLiteStore(directory: directory.appendingPathComponent("worktree", isDirectory: true))
    self.collection = collection
  }

  /// Brings the overlay to the working tree: files whose blob id changed are read through the
  /// sync's filters and chunker (`SyncEngine`, so the same gate applies), their vectors reused by
  /// chunk hash from the cache and `committed`, the rest embedded; overlay files that are no
  /// longer changed are dropped. An unchanged working tree reads nothing but git's status.
  public func refresh(
    repository: Repository, embedder: any Embedder, options: SyncOptions, cache: EmbeddingCache?,
    committed: (store: any VectorStore, collection: String)?
  ) async throws -> WorkingTreeView {
    let changes = try repository.workingTreeChanges()
    let present = changes.filter { $0.kind != .deleted }.map(\.path)
    let source = try WorkingTreeSource(repository: repository, paths: present)
    let files = try source.files()
    let blobIDs = Dictionary(files.map { ($0.path, $0.hash) }, uniquingKeysWith: { a, _ in a })

    let fingerprint = try await embedder.fingerprint
    let existed = try await store.collectionExists(collection)
    if existed, try await store.metadata(collection)?.embedder != fingerprint {
      // Built with another embedder (the committed index was rebuilt): start over.
      try await store.deleteCollection(collection)
    }
    let existing = try await store.collectionExists(collection) ? try await store.inventory(collection) : [:]
    let stale = existing.keys.filter { blobIDs[$0] == nil }
    let toIndex = files.filter { existing[$0.path] != $0.hash }
    if !toIndex.isEmpty {
      var options = options
      options.collection = collection
      options.dryRun = false
      options.reindex = false
      var engine = SyncEngine(store: store, embedder: embedder, cache: cache, options: options)
      engine.vectorDonor = committed
      let subset = try WorkingTreeSource(repository: repository, paths: toIndex.map(\.path))
      _ = try await engine.upsertFiles(source: subset)
    }
    if !stale.isEmpty { try await store.deleteFiles(collection, paths: stale.sorted()) }
    let hasChunks = try await store.collectionExists(collection) ? try await store.count(collection) > 0 : false
    return WorkingTreeView(store: store, collection: collection, changes: changes, blobIDs: blobIDs, hasChunks: hasChunks)
  }
}
