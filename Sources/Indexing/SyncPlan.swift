import Chunking
import Foundation
import Git
import GitRAGCore

/// What a sync will do, worked out before anything is written.
public struct SyncPlan: Sendable {
  public enum Mode: String, Sendable, Codable {
    /// No previous commit: every file of the snapshot.
    case full
    /// Tree-to-tree diff from the last indexed commit.
    case incremental
    /// The last commit is gone (shallow clone, force-push + gc) or there is no git: the store's
    /// `(file_path, file_hash)` inventory compared with the snapshot.
    case reconcile
    /// Nothing changed since the last indexed commit.
    case upToDate = "up-to-date"
  }

  /// A file whose chunks move to a new path with their vectors (a pure rename).
  public struct Move: Sendable, Hashable {
    public var from: String
    public var to: SourceFile
  }

  public var mode: Mode
  public var base: String?
  public var target: String?
  /// Files to read, chunk, embed and upsert.
  public var index: [SourceFile] = []
  /// Pure renames.
  public var moves: [Move] = []
  /// Paths whose points all go.
  public var removals: [String] = []
  /// `path → new hash`: after indexing, points of these paths with another hash go.
  public var replacements: [String: String] = [:]

  public var added = 0
  public var modified = 0
  public var deleted = 0
  public var renamed = 0

  public var isEmpty: Bool { index.isEmpty && moves.isEmpty && removals.isEmpty && replacements.isEmpty }
}

/// Works out a `SyncPlan` from a source, the store's last indexed commit and its inventory.
struct SyncPlanner {
  let filter: FileFilter

  /// Plans from a tree-to-tree diff. Returns nil when the diff cannot be trusted to equal a full
  /// index (a `.gitattributes` change alters which files are included): the caller reconciles.
  func planIncremental(changes: [FileChange], base: String, target: String, source: ContentSource) -> SyncPlan? {
    var plan = SyncPlan(mode: .incremental, base: base, target: target)
    if changes.isEmpty {
      plan.mode = .upToDate
      return plan
    }
    if changes.contains(where: \.touchesAttributes) { return nil }
    for change in changes {
      let newFile = change.newPath.flatMap { path in
        change.newID.map { SourceFile(path: path, hash: $0.hex, kind: FileKind(change.newMode ?? .blob)) }
      }
      switch change.kind {
      case .added, .copied:
        if let newFile { plan.index.append(newFile); plan.added += 1 }
      case .deleted:
        if let old = change.oldPath { plan.removals.append(old); plan.deleted += 1 }
      case .modified, .typeChanged:
        guard let newFile else { continue }
        if let old = change.oldPath, old != newFile.path { plan.removals.append(old) }
        plan.index.append(newFile)
        plan.replacements[newFile.path] = newFile.hash
        plan.modified += 1
      case .renamed:
        guard let newFile, let old = change.oldPath else { continue }
        plan.renamed += 1
        if change.oldID == change.newID && change.oldMode == change.newMode {
          plan.moves.append(.init(from: old, to: newFile))
        } else {
          plan.removals.append(old)
          plan.index.append(newFile)
        }
      }
    }
    return plan
  }

  /// Plans by comparing the store's inventory with the snapshot's files.
  func planReconcile(files: [SourceFile], inventory: [String: String], base: String?, target: String?, source: ContentSource) -> SyncPlan {
    var plan = SyncPlan(mode: inventory.isEmpty ? .full : .reconcile, base: base, target: target)
    var wanted: [String: SourceFile] = [:]
    wanted.reserveCapacity(files.count)
    for file in files { wanted[file.path] = file }

    // Paths that vanished, grouped by hash, so a file that moved keeps its vectors.
    var vanishedByHash: [String: [String]] = [:]
    for (path, hash) in inventory where wanted[path] == nil {
      vanishedByHash[hash, default: []].append(path)
    }
    for file in files {
      switch inventory[file.path] {
      case file.hash?:
        continue
      case .some:
        plan.index.append(file)
        plan.replacements[file.path] = file.hash
        plan.modified += 1
      case nil:
        if var sources = vanishedByHash[file.hash], let from = sources.popLast() {
          vanishedByHash[file.hash] = sources
          plan.moves.append(.init(from: from, to: file))
          plan.renamed += 1
        } else {
          plan.index.append(file)
          plan.added += 1
        }
      }
    }
    for paths in vanishedByHash.values {
      plan.removals.append(contentsOf: paths)
      plan.deleted += paths.count
    }
    plan.removals.sort()
    if plan.isEmpty && !inventory.isEmpty { plan.mode = .upToDate }
    return plan
  }
}

extension FileChange {
  /// A `.gitattributes` file changed: which files are indexed, and how, may change with it.
  var touchesAttributes: Bool {
    [oldPath, newPath].contains { path in path.map { $0 == ".gitattributes" || $0.hasSuffix("/.gitattributes") } ?? false }
  }
}
