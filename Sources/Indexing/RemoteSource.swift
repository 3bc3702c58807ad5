import Foundation
import Git
import GitRAGCore

/// Indexes a remote (or local) repository without a working copy: clone with libgit2 into a
/// temporary folder (always removed), index HEAD's tree like a sync, record the commit and the
/// redacted URL. A later upload of the same repository diffs from the recorded commit when the new
/// clone has it, and reconciles against the store's inventory otherwise.
public struct RemoteRepositoryUpload {
  public var location: CloneLocation
  public var clone: CloneOptions
  /// Requested history depth. libgit2 1.5 cannot make shallow clones, so the full history is
  /// fetched; the plan still reconciles, as it must for a shallow clone.
  public var depth: Int?
  /// Index this commit (a full hex id) instead of the cloned branch's head; it must be in the clone.
  public var commit: String?
  /// Clone here and keep it (tests inspect the clone); nil for a temporary folder that is removed.
  public var keepCloneAt: URL?
  /// Parent of the temporary clone folder.
  public var temporaryRoot = FileManager.default.temporaryDirectory

  public init(location: CloneLocation, clone: CloneOptions) {
    self.location = location
    self.clone = clone
  }

  /// Clones, then syncs HEAD's tree into the engine's collection.
  public func run(engine: SyncEngine) async throws -> SyncReport {
    let folder: URL
    if let keepCloneAt {
      folder = keepCloneAt
    } else {
      folder = temporaryRoot.appendingPathComponent("git-rag-clone-\(UUID().uuidString)", isDirectory: true)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    defer { if keepCloneAt == nil { try? FileManager.default.removeItem(at: folder) } }
    if depth != nil {
      clone.onNote?("--depth: libgit2 1.5 cannot make shallow clones; fetching the full history and reconciling with the index.")
    }
    let repository = try Repository.clone(location, into: folder.appendingPathComponent("repo", isDirectory: true), options: clone)
    let head =
      try commit.map { wanted in
        guard let id = ObjectID(hex: wanted), repository.commitExists(id) else {
          throw GitRAGError(
            "Commit \(wanted) is not in \(location.redacted)\(clone.branch.map { " (branch \($0))" } ?? ""). Push it first, or name a commit the remote has."
          )
        }
        return id
      } ?? repository.head()
    return try await engine.sync(source: GitCommitSource(repository: repository, commit: head, diffsHistory: depth == nil))
  }
}
