import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Testing

@testable import Indexing

/// The planner on its own: `PlanInputs` in, `SyncPlan` out, with no repository, store or embedder.
@Suite struct SyncPlanTests {
  static let version = "chunker-1;chars=1000|filter-1;max=1048576"

  static func id(_ n: Int) -> String { String(format: "%040x", n) }
  static func file(_ path: String, _ n: Int) -> SourceFile { SourceFile(path: path, hash: id(n), kind: .regular) }

  static func metadata(base: String?, version: String = version, pending: [String: String] = [:]) -> IndexMetadata {
    IndexMetadata(embedder: "none", dimension: 0, chunkerVersion: version, lastIndexedCommit: base, source: "test", pendingTargets: pending)
  }

  static func change(_ kind: ChangeKind, _ old: (String, Int)?, _ new: (String, Int)?) -> FileChange {
    FileChange(
      kind: kind, oldPath: old?.0, newPath: new?.0, oldID: old.flatMap { ObjectID(hex: id($0.1)) },
      newID: new.flatMap { ObjectID(hex: id($0.1)) }, oldMode: old == nil ? nil : .blob, newMode: new == nil ? nil : .blob,
      similarity: kind == .renamed ? 100 : 0)
  }

  @Test func aNewCollectionIndexesEveryFileWithoutAskingForChanges() {
    var inputs = PlanInputs(metadata: nil, chunkerVersion: Self.version, target: "c1")
    #expect(!inputs.upToDate && !inputs.needsChanges && inputs.needsSnapshot)
    inputs.files = [Self.file("a.py", 1), Self.file("b.md", 2)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .full)
    #expect(plan.index.map(\.path) == ["a.py", "b.md"] && plan.added == 2)
    #expect(plan.removals.isEmpty && plan.moves.isEmpty && !plan.writesNothing)
  }

  @Test func theIndexedCommitUnderTheSameSettingsNeedsNothingRead() {
    let inputs = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: "c1")
    #expect(inputs.upToDate && !inputs.needsChanges && !inputs.needsSnapshot)
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .upToDate && plan.writesNothing && plan.isEmpty)
  }

  @Test func aDiffPlansEachKindOfChange() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: "c2")
    #expect(inputs.needsChanges)
    inputs.changes = [
      Self.change(.added, nil, ("new.py", 10)),
      Self.change(.modified, ("edited.py", 11), ("edited.py", 12)),
      Self.change(.deleted, ("gone.py", 13), nil),
      Self.change(.renamed, ("old.py", 14), ("moved.py", 14)),
      Self.change(.renamed, ("before.py", 15), ("after.py", 16)),
    ]
    #expect(!inputs.needsSnapshot)
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .incremental && plan.base == "c1" && plan.target == "c2")
    #expect(plan.index.map(\.path) == ["new.py", "edited.py", "after.py"])
    #expect(plan.replacements == ["edited.py": Self.id(12)])
    #expect(plan.removals == ["gone.py", "before.py"])
    #expect(plan.moves == [SyncPlan.Move(from: "old.py", to: Self.file("moved.py", 14))])
    #expect((plan.added, plan.modified, plan.deleted, plan.renamed) == (1, 1, 1, 2))
  }

  /// An empty diff to another commit (same tree) writes no file but still records the commit.
  @Test func anEmptyDiffToANewCommitStillRecordsIt() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: "c2")
    inputs.changes = []
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .upToDate && plan.isEmpty && !plan.writesNothing)
  }

  /// A `.gitattributes` change may change which unchanged files belong: every file is compared
  /// again as if none were stored.
  @Test func anAttributesChangeReconcilesEveryFile() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: "c2")
    inputs.changes = [Self.change(.modified, ("docs/.gitattributes", 1), ("docs/.gitattributes", 2))]
    #expect(inputs.needsSnapshot)
    inputs.files = [Self.file("docs/.gitattributes", 2), Self.file("docs/a.md", 3)]
    inputs.inventory = ["docs/.gitattributes": Self.id(1), "docs/a.md": Self.id(3)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .reconcile)
    #expect(plan.index.map(\.path) == ["docs/.gitattributes", "docs/a.md"])
    #expect(plan.replacements == ["docs/.gitattributes": Self.id(2), "docs/a.md": Self.id(3)])
    #expect(plan.rechunked.isEmpty, "the chunking did not change")
  }

  /// A new chunker re-chunks every file; files whose blob is unchanged are marked so that chunks
  /// beyond their new count go.
  @Test func aChunkerChangeRechunksEveryFileWithoutTheDiff() {
    let old = "chunker-0;chars=1000|filter-1;max=1048576"
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1", version: old), chunkerVersion: Self.version, target: "c2")
    #expect(inputs.rechunk && inputs.refilter && !inputs.needsChanges && inputs.needsSnapshot)
    inputs.files = [Self.file("same.py", 1), Self.file("edited.py", 3)]
    inputs.inventory = ["same.py": Self.id(1), "edited.py": Self.id(2), "gone.py": Self.id(4)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.index.map(\.path) == ["same.py", "edited.py"])
    #expect(plan.rechunked == ["same.py"])
    #expect(plan.removals == ["gone.py"])
  }

  /// Filters or secret rules changed (after the `|`): files are checked again, not re-chunked.
  @Test func aFilterChangeReadmitsFilesWithoutRechunking() {
    let old = "chunker-1;chars=1000|filter-1;max=2048"
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1", version: old), chunkerVersion: Self.version, target: "c1")
    #expect(!inputs.rechunk && inputs.refilter && !inputs.upToDate && inputs.needsSnapshot)
    inputs.files = [Self.file("big.py", 1)]
    inputs.inventory = ["small.py": Self.id(2)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.index.map(\.path) == ["big.py"] && plan.removals == ["small.py"] && plan.rechunked.isEmpty)
  }

  /// The last indexed commit is gone (shallow clone, force-push): the inventory is compared with
  /// the files, and a file that moved keeps its vectors.
  @Test func withoutADiffTheInventoryIsReconciled() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "gone"), chunkerVersion: Self.version, target: "c2")
    #expect(inputs.needsChanges)
    inputs.changes = nil
    #expect(inputs.needsSnapshot)
    inputs.files = [Self.file("kept.py", 1), Self.file("renamed.py", 2), Self.file("edited.py", 4)]
    inputs.inventory = ["kept.py": Self.id(1), "original.py": Self.id(2), "edited.py": Self.id(3), "deleted.py": Self.id(5)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .reconcile)
    #expect(plan.moves == [SyncPlan.Move(from: "original.py", to: Self.file("renamed.py", 2))])
    #expect(plan.index.map(\.path) == ["edited.py"] && plan.replacements == ["edited.py": Self.id(4)])
    #expect(plan.removals == ["deleted.py"])
    #expect(plan.staleSweep == nil)
  }

  /// An unfinished sync wrote towards another commit: every path either diff touches is made
  /// equal to the target.
  @Test func anInterruptedSyncsChangesAreRecovered() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1", pending: ["w": "x"]), chunkerVersion: Self.version, target: "c2")
    #expect(!inputs.upToDate && inputs.needsChanges && inputs.interrupted == ["x"])
    inputs.changes = [Self.change(.modified, ("a.py", 1), ("a.py", 2))]
    #expect(inputs.needsSnapshot, "without the interrupted target's diff the plan reconciles")
    inputs.interruptedChanges["x"] = [
      Self.change(.deleted, ("only-in-x.py", 7), nil),
      Self.change(.renamed, ("x-name.py", 8), ("b.py", 8)),
    ]
    #expect(!inputs.needsSnapshot)
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.mode == .incremental)
    #expect(Set(plan.index.map(\.path)) == ["a.py", "b.py"], "every path of the target either diff names is written again")
    #expect(Set(plan.removals) == ["only-in-x.py", "x-name.py"])
    #expect(plan.moves.isEmpty)
  }

  @Test func anInterruptedSyncWithoutADiffSweepsStaleVersions() {
    var inputs = PlanInputs(metadata: Self.metadata(base: nil, pending: ["w": "x"]), chunkerVersion: Self.version, target: "c2")
    #expect(!inputs.needsChanges && inputs.needsSnapshot)
    inputs.files = [Self.file("a.py", 1)]
    inputs.inventory = ["a.py": Self.id(1)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.staleSweep == ["a.py": Self.id(1)])
  }

  /// `upload file`: only the source's paths are compared; the rest of the collection stays.
  @Test func aPartialSyncLeavesOtherPathsAlone() {
    var inputs = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: nil, partial: true)
    #expect(!inputs.needsChanges && inputs.needsSnapshot)
    inputs.files = [Self.file("notes.md", 2)]
    inputs.inventory = ["notes.md": Self.id(1), "other.md": Self.id(3)]
    let plan = SyncPlanner.plan(inputs)
    #expect(plan.index.map(\.path) == ["notes.md"] && plan.removals.isEmpty)
  }

  /// Property: from any stored tree to any target tree, the incremental plan (from the diff) and
  /// the reconcile plan (from the inventory), applied to the stored `path → hash` map, both give
  /// exactly the target's files.
  @Test func bothWaysOfPlanningReachTheTarget() {
    var random = SeededRandom(seed: 19)
    for _ in 0..<300 {
      let old = Self.randomTree(&random)
      var new = old
      for _ in 0..<Int.random(in: 0...6, using: &random) {
        let paths = new.keys.sorted()
        switch Int.random(in: 0..<4, using: &random) {
        case 0: new["f\(Int.random(in: 0..<40, using: &random)).py"] = Int.random(in: 0..<20, using: &random)
        case 1: if let path = paths.randomElement(using: &random) { new[path] = nil }
        case 2:
          if let path = paths.randomElement(using: &random) {
            new["r\(Int.random(in: 0..<40, using: &random)).py"] = new.removeValue(forKey: path)
          }
        default: if let path = paths.randomElement(using: &random) { new[path] = Int.random(in: 0..<20, using: &random) }
        }
      }
      let target = new.mapValues(Self.id)
      let files = new.keys.sorted().map { Self.file($0, new[$0]!) }

      var incremental = PlanInputs(metadata: Self.metadata(base: "c1"), chunkerVersion: Self.version, target: "c2")
      incremental.changes = Self.diff(old, new)
      #expect(!incremental.needsSnapshot)
      #expect(Self.apply(SyncPlanner.plan(incremental), to: old.mapValues(Self.id)) == target, "\(old) → \(new)")

      var reconcile = PlanInputs(metadata: Self.metadata(base: "gone"), chunkerVersion: Self.version, target: "c2")
      reconcile.files = files
      reconcile.inventory = old.mapValues(Self.id)
      #expect(Self.apply(SyncPlanner.plan(reconcile), to: old.mapValues(Self.id)) == target, "\(old) → \(new)")
    }
  }

  static func randomTree(_ random: inout SeededRandom) -> [String: Int] {
    var tree: [String: Int] = [:]
    for _ in 0..<Int.random(in: 0...8, using: &random) {
      tree["f\(Int.random(in: 0..<40, using: &random)).py"] = Int.random(in: 0..<20, using: &random)
    }
    return tree
  }

  /// A tree diff as git reports one: a deleted path whose blob an added path has is a rename.
  static func diff(_ old: [String: Int], _ new: [String: Int]) -> [FileChange] {
    var changes: [FileChange] = []
    var deleted = old.keys.filter { new[$0] == nil }.sorted()
    for path in new.keys.sorted() {
      guard let blob = new[path] else { continue }
      if let before = old[path] {
        if before != blob { changes.append(change(.modified, (path, before), (path, blob))) }
      } else if let from = deleted.firstIndex(where: { old[$0] == blob }) {
        changes.append(change(.renamed, (deleted[from], blob), (path, blob)))
        deleted.remove(at: from)
      } else {
        changes.append(change(.added, nil, (path, blob)))
      }
    }
    changes += deleted.map { change(.deleted, ($0, old[$0]!), nil) }
    return changes
  }

  /// What a store holds after the sync's steps, by `path → hash`: moves and indexed files are
  /// written, then every point of a removed path (and of a moved file's old path) goes.
  static func apply(_ plan: SyncPlan, to stored: [String: String]) -> [String: String] {
    var store = stored
    for move in plan.moves { store[move.to.path] = store[move.from] }
    for file in plan.index { store[file.path] = file.hash }
    for path in plan.removals + plan.moves.map(\.from) { store[path] = nil }
    return store
  }
}
