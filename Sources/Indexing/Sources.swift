import Chunking
import Foundation
import Git
import GitRAGCore

/// One file of a source snapshot: where it is, its git blob id, and what kind of entry it is.
public struct SourceFile: Sendable, Hashable {
  public var path: String
  /// Git blob SHA of the content (inside and outside git alike).
  public var hash: String
  public var kind: FileKind

  public init(path: String, hash: String, kind: FileKind) {
    self.path = path
    self.hash = hash
    self.kind = kind
  }
}

/// A snapshot of files to index: a commit's tree, a plain folder, an archive.
///
/// Sources are read on the syncing task only (libgit2 handles are not Sendable).
public protocol ContentSource: AnyObject {
  /// The commit being indexed, or nil outside git.
  var revision: String? { get }
  /// Repository identity for the metadata: remote URL or root path.
  var identity: String { get }
  /// Every file of the snapshot.
  func files() throws -> [SourceFile]
  /// Size in bytes, without reading the content when the source can.
  func size(of file: SourceFile) throws -> Int
  func read(_ file: SourceFile) throws -> Data
  /// The `rag` attribute for a path (`.gitattributes`: `rag` forces in, `-rag` excludes).
  func ragAttribute(_ path: String) -> RagAttribute
  /// Secret rules the path may ignore: the `rag-allow-secrets` attribute (set: every rule; a
  /// value: those rule ids). Sources without attributes allow none.
  func secretAllowance(_ path: String) -> SecretAllowance
  /// The repository the snapshot comes from; nil outside git.
  var repositoryIdentity: RepositoryIdentity? { get }
  /// What changed from the commit `base` to this snapshot, when the source can say so and the
  /// answer can be trusted (a tree-to-tree diff); nil to have the sync compare every file with
  /// the store's inventory instead. A source that adds files of its own (the Python summary)
  /// adds their changes too.
  func changes(since base: String) throws -> [FileChange]?
}

extension ContentSource {
  public var repositoryIdentity: RepositoryIdentity? { nil }
  /// No diff: the sync reconciles with the store's inventory.
  public func changes(since base: String) throws -> [FileChange]? { nil }
}

extension FileKind {
  init(_ mode: FileMode) {
    switch mode {
    case .blob, .tree: self = .regular
    case .executable: self = .executable
    case .symlink: self = .symlink
    case .gitlink: self = .submodule
    }
  }
}

/// The tree of one commit in a repository opened with libgit2.
public final class GitCommitSource: ContentSource {
  public let repository: Repository
  public let commit: ObjectID
  public var revision: String? { commit.hex }
  public let identity: String
  public let repositoryIdentity: RepositoryIdentity?
  /// Whether `changes(since:)` diffs from an earlier commit; when false the sync always
  /// reconciles with the store's inventory (as for a shallow clone).
  public let diffsHistory: Bool

  public init(repository: Repository, commit: ObjectID, diffsHistory: Bool = true) {
    self.repository = repository
    self.commit = commit
    self.diffsHistory = diffsHistory
    let owner = RepositoryIdentity(repository: repository, head: commit)
    self.identity = owner.display
    self.repositoryIdentity = owner
  }

  public func files() throws -> [SourceFile] {
    try repository.treeEntries(commit: commit).map { SourceFile(path: $0.path, hash: $0.id.hex, kind: FileKind($0.mode)) }
  }

  /// The tree diff (with renames) from `base`, when this repository has that commit.
  public func changes(since base: String) throws -> [FileChange]? {
    guard diffsHistory, let baseID = ObjectID(hex: base), repository.commitExists(baseID) else { return nil }
    if baseID == commit { return [] }
    return try repository.diff(from: baseID, to: commit)
  }

  public func size(of file: SourceFile) throws -> Int {
    guard let id = ObjectID(hex: file.hash) else { return 0 }
    return try repository.blobSize(id)
  }

  public func read(_ file: SourceFile) throws -> Data {
    guard let id = ObjectID(hex: file.hash) else { return Data() }
    return try repository.blob(id)
  }

  public func ragAttribute(_ path: String) -> RagAttribute {
    switch repository.attribute("rag", path: path, commit: commit) {
    case .set: .forceInclude
    case .unset: .exclude
    case .value(let v) where v == "false" || v == "0": .exclude
    case .value: .forceInclude
    case .unspecified: .unspecified
    }
  }

  public func secretAllowance(_ path: String) -> SecretAllowance {
    switch repository.attribute("rag-allow-secrets", path: path, commit: commit) {
    case .set: SecretAllowance(everything: true)
    case .value(let list): SecretAllowance(parsing: list)
    case .unset, .unspecified: .none
    }
  }
}

public enum RemoteURL {
  /// `url` without any user name or password (they never reach metadata, payloads or logs).
  public static func redacted(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let rest = url[schemeEnd.upperBound...]
    let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    guard let at = rest[..<hostEnd].lastIndex(of: "@") else { return url }
    return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
  }
}
