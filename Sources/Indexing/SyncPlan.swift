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

  /// The collection already holds the target under the same settings: nothing is written, not
  /// even the commit (an empty diff to a new commit still records it).
  var writesNothing = false
  /// Files whose stored version is the current one but whose chunks are written again (after a
  /// chunker change): what their old chunking had beyond the new one goes afterwards.
  var rechunked: Set<String> = []
  /// `path → hash` of every file of the target, when unfinished syncs may have left a second
  /// version of a path (the inventory shows one per path): points of any other version go.
  var staleSweep: [String: String]?
}

/// Everything a plan is made from: the collection's metadata, the current settings' chunker
/// version, and what was read from the source and the store. Planning reads nothing itself: the
/// sync reads what `needsChanges` and `needsSnapshot` ask for, then calls `SyncPlanner.plan`.
struct PlanInputs: Sendable {
  /// The collection's metadata; nil for a collection that does not exist yet.
  var metadata: IndexMetadata?
  /// `SyncEngine.chunkerVersion` of this sync's settings.
  var chunkerVersion: String
  /// The commit being indexed, nil outside git.
  var target: String?
  /// Only the source's files are indexed (`upload file`): no diff, and the inventory counts only
  /// their paths.
  var partial = false
  /// The source's changes from `base` to the target (read when `needsChanges`); nil when it has no
  /// diff it can trust.
  var changes: [FileChange]?
  /// The source's changes from each of `interrupted` to the target; a commit missing here is one
  /// the source cannot diff from.
  var interruptedChanges: [String: [FileChange]] = [:]
  /// Every file of the target (read when `needsSnapshot`).
  var files: [SourceFile] = []
  /// The store's `file_path → file_hash` inventory (read when `needsSnapshot`; empty for a new collection).
  var inventory: [String: String] = [:]

  init(metadata: IndexMetadata?, chunkerVersion: String, target: String?, partial: Bool = false) {
    self.metadata = metadata
    self.chunkerVersion = chunkerVersion
    self.target = target
    self.partial = partial
  }

  /// The last indexed commit.
  var base: String? { metadata?.lastIndexedCommit }
  /// Unfinished syncs (killed, or running elsewhere) wrote towards these commits: besides what
  /// changed since `base`, whatever differs between them and the target may be half-written (see
  /// `IndexMetadata.pendingTargets`).
  var interrupted: [String] { Set((metadata?.pendingTargets ?? [:]).values).sorted() }
  /// The chunking settings changed: every file is chunked again.
  var rechunk: Bool {
    metadata.map { SyncEngine.chunkingPart($0.chunkerVersion) != SyncEngine.chunkingPart(chunkerVersion) } ?? false
  }
  /// Some setting that decides which files belong (size limit, built-in filters, secret rules)
  /// or how they are chunked changed.
  var refilter: Bool { metadata.map { $0.chunkerVersion != chunkerVersion } ?? false }
  /// The collection holds the target under these settings, with no unfinished sync to recover.
  var upToDate: Bool {
    !refilter && (metadata?.pendingTargets ?? [:]).isEmpty && base != nil && base == target
  }
  /// Whether the plan depends on the source's changes since `base` (and since `interrupted`).
  var needsChanges: Bool { !upToDate && !partial && !refilter && base != nil }
  /// Whether the plan compares every file of the target with the store's inventory.
  var needsSnapshot: Bool { !upToDate && SyncPlanner.planIncremental(self) == nil }

  /// The changes from `base` to the target, or nil to reconcile. After syncs towards
  /// `interrupted` died (or ran elsewhere), also the changes from those commits, and every change
  /// becomes "make this path equal the target": a path the target has is re-indexed over whatever
  /// versions are stored (their vectors are reused), any other path is deleted. A commit the
  /// source cannot diff from (another clone's) means reconciling.
  var recoveringChanges: [FileChange]? {
    guard !partial, let diff = changes else { return nil }
    let interrupted = interrupted
    if interrupted.isEmpty { return diff }
    var extra: [FileChange] = []
    for commit in interrupted {
      guard let changed = interruptedChanges[commit] else { return nil }
      extra += changed
    }
    var byPath: [String: FileChange] = [:]
    for change in diff + extra {
      if let old = change.oldPath, old != change.newPath, byPath[old] == nil {
        byPath[old] = FileChange(
          kind: .deleted, oldPath: old, newPath: nil, oldID: change.oldID, newID: nil,
          oldMode: change.oldMode, newMode: nil, similarity: 0)
      }
      // Both diffs end at the target, so a new side is the target's version of that path.
      if let new = change.newPath, let id = change.newID {
        byPath[new] = FileChange(
          kind: .modified, oldPath: new, newPath: new, oldID: nil, newID: id,
          oldMode: change.newMode, newMode: change.newMode, similarity: 0)
      }
    }
    return byPath.keys.sorted().map { byPath[$0]! }
  }
}

/// Works out a `SyncPlan`: a pure function of `PlanInputs`.
enum SyncPlanner {
  /// The plan: nothing when the collection is up to date; from the changes when they can be
  /// trusted to equal a full index; otherwise by comparing the target's files with the inventory.
  static func plan(_ inputs: PlanInputs) -> SyncPlan {
    if inputs.upToDate {
      var plan = SyncPlan(mode: .upToDate, base: inputs.base, target: inputs.target)
      plan.writesNothing = true
      return plan
    }
    if let incremental = planIncremental(inputs) { return incremental }
    var inventory = inputs.inventory
    var rechunked: Set<String> = []
    // After a chunker or filter change every file is re-chunked: pretend no stored hash matches.
    // So after a `.gitattributes` change, which may change what the gate lets through for
    // unchanged blobs. Files the gate now keeps out lose their points (see `removals`).
    // (The diffs from unfinished syncs' targets count too: one may have written under other rules.)
    let attributesChanged = inputs.recoveringChanges?.contains(where: \.touchesAttributes) == true
    if inputs.refilter || attributesChanged {
      if inputs.rechunk { rechunked = Set(inputs.files.filter { inventory[$0.path] == $0.hash }.map(\.path)) }
      inventory = inventory.mapValues { _ in "" }
    }
    if inputs.partial {
      let paths = Set(inputs.files.map(\.path))
      inventory = inventory.filter { paths.contains($0.key) }
    }
    var plan = planReconcile(files: inputs.files, inventory: inventory, base: inputs.base, target: inputs.target)
    plan.rechunked = rechunked
    // The inventory shows one version per path; an interrupted sync may have left two.
    if !(inputs.metadata?.pendingTargets ?? [:]).isEmpty {
      plan.staleSweep = Dictionary(inputs.files.map { ($0.path, $0.hash) }, uniquingKeysWith: { a, _ in a })
    }
    return plan
  }

  /// The plan from the changes, or nil when there are none to trust, the settings changed, or
  /// they touch a `.gitattributes` (which alters which files are included): then the inputs need
  /// the snapshot, to reconcile.
  static func planIncremental(_ inputs: PlanInputs) -> SyncPlan? {
    guard !inputs.refilter, let base = inputs.base, let changes = inputs.recoveringChanges else { return nil }
    return planIncremental(changes: changes, base: base, target: inputs.target ?? "")
  }

  /// Plans from a tree-to-tree diff. Returns nil when the diff cannot be trusted to equal a full
  /// index (a `.gitattributes` change alters which files are included): the caller reconciles.
  static func planIncremental(changes: [FileChange], base: String, target: String) -> SyncPlan? {
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
  static func planReconcile(files: [SourceFile], inventory: [String: String], base: String?, target: String?) -> SyncPlan {
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
