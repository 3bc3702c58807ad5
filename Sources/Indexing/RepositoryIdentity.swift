import Foundation
import Git
import GitRAGCore

/// The repository a git source comes from, as collections record it: its root commit ids (what
/// clones, forks and linked worktrees share and unrelated repositories never do), plus the remote
/// URL (or path) for messages. Read on the syncing task only (it holds a libgit2 handle).
public final class RepositoryIdentity {
  let repository: Repository
  let head: ObjectID
  /// The remote URL without credentials, or the repository's path when it has no `origin`.
  public let display: String
  private var roots: [String]??

  public init(repository: Repository, head: ObjectID) {
    self.repository = repository
    self.head = head
    display = repository.remoteURL().map(RemoteURL.redacted) ?? repository.workdir?.path ?? repository.gitDir.path
  }

  /// The root commits of HEAD's history; nil in a shallow clone (its history is cut off).
  public func rootCommits() throws -> [String]? {
    if let roots { return roots }
    let found = try repository.rootCommits(of: head)?.map(\.hex)
    roots = .some(found)
    return found
  }

  /// Whether a collection with this metadata indexes this repository.
  ///
  /// A commit it indexed (or was syncing towards) that this repository has proves shared history
  /// at once; otherwise the recorded root commits must meet this repository's. A shallow clone,
  /// whose roots are unknown, is matched by its remote URL. A collection that records neither
  /// roots nor an indexed commit (made by `collection create`, or by an upload) is adopted.
  public func owns(_ metadata: IndexMetadata) throws -> Bool {
    let commits = [metadata.lastIndexedCommit].compactMap { $0 } + metadata.pendingTargets.values
    if commits.contains(where: { ObjectID(hex: $0).map(repository.commitExists) ?? false }) { return true }
    if !metadata.rootCommits.isEmpty {
      guard let roots = try rootCommits() else { return RemoteURL.sameRepository(display, metadata.source) }
      return !Set(roots).isDisjoint(with: metadata.rootCommits)
    }
    if metadata.lastIndexedCommit?.isEmpty ?? true { return true }
    return RemoteURL.sameRepository(display, metadata.source)
  }

  /// Throws `SyncError.otherRepository` unless the collection indexes this repository.
  public func checkOwns(_ metadata: IndexMetadata, collection: String, location: String) throws {
    guard try !owns(metadata) else { return }
    let ours = try rootCommits()?.first.map { String($0.prefix(12)) }
    throw SyncError.otherRepository(
      collection: collection, location: location, owner: Self.describe(metadata.source, root: metadata.rootCommits.first),
      this: Self.describe(display, root: ours), suggestion: "\(collection)-\(ours.map { String($0.prefix(8)) } ?? "2")")
  }

  static func describe(_ source: String, root: String?) -> String {
    let name = source.isEmpty ? "an unnamed source" : source
    return root.map { "\(name), root commit \($0.prefix(12))" } ?? name
  }
}

extension RemoteURL {
  /// `git@github.com:org/app.git`, `https://user@github.com/org/app` and `ssh://git@github.com/org/app.git`
  /// all become `github.com/org/app`; a local path stays a path (without a trailing `.git` or `/`).
  public static func normalized(_ url: String) -> String {
    var text = redacted(url).trimmingCharacters(in: .whitespaces)
    if let scheme = text.range(of: "://") {
      text = String(text[scheme.upperBound...])
      if let at = text.firstIndex(of: "@"), at < (text.firstIndex(of: "/") ?? text.endIndex) {
        text = String(text[text.index(after: at)...])
      }
    } else if !text.hasPrefix("/"), let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
      // scp-like `user@host:path`
      var host = text[..<colon]
      if let at = host.firstIndex(of: "@") { host = host[host.index(after: at)...] }
      text = host + "/" + text[text.index(after: colon)...]
    }
    while text.hasSuffix("/") { text.removeLast() }
    if text.hasSuffix(".git") { text.removeLast(4) }
    while text.hasSuffix("/") { text.removeLast() }
    guard let slash = text.firstIndex(of: "/"), !text.hasPrefix("/") else { return text }
    return text[..<slash].lowercased() + text[slash...]
  }

  /// Whether two remote URLs (or paths) name the same repository.
  public static func sameRepository(_ a: String, _ b: String) -> Bool {
    !a.isEmpty && normalized(a) == normalized(b)
  }
}

public enum CollectionName {
  /// The collection a repository uses unless told otherwise: the main worktree's folder name (so
  /// linked worktrees share their repository's collection), or a bare repository's own name
  /// without `.git` (`srv/alpha.git` → `alpha`); `default` outside a repository.
  public static func `default`(for repository: Repository?) -> String {
    guard let repository else { return "default" }
    let common = repository.commonDir.standardizedFileURL
    let linked = repository.gitDir.standardizedFileURL.path != common.path
    var folder: String
    if repository.isBare || linked || repository.workdir == nil {
      folder = common.lastPathComponent == ".git" ? common.deletingLastPathComponent().lastPathComponent : common.lastPathComponent
    } else {
      folder = repository.workdir?.standardizedFileURL.lastPathComponent ?? ""
    }
    if folder.hasSuffix(".git"), folder.count > 4 { folder.removeLast(4) }
    let cleaned = String(
      folder.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) ? Character($0) : "-" })
    return cleaned.isEmpty ? "default" : cleaned
  }
}
