import Embedding
import ArgumentParser
import Foundation
import Git
import GitRAGCore
import Indexing
import Store

struct StatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show the index: store, collection, embedder, counts, last indexed commit, and what a sync would do."
  )

  @Flag(help: "Print as JSON.")
  var json = false

  struct Status: Codable {
    var store: String
    var collection: String
    var exists: Bool
    var embedder: String?
    var dimension: Int?
    var chunks: Int?
    var files: Int?
    var lastIndexedCommit: String?
    var lastIndexedAt: String?
    var head: String?
    var commitsBehind: Int?
    /// How the indexed commit relates to HEAD, in words.
    var relation: String?
    /// The collection holds another source (an upload), so HEAD says nothing about its freshness.
    var upload: Bool?
    var dirty: Bool
    var pendingSync: SyncReport?
    /// The sync holding the collection's lease (shared Qdrant collections), if any.
    var lease: SyncLease?
    /// Commits unfinished syncs were writing towards, by writer.
    var unfinishedSyncs: [String: String]?
    /// Where the index comes from, and the root commits that identify its repository.
    var source: String?
    var rootCommits: [String]?
  }
  @OptionGroup var global: GlobalOptions

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let store = try context.makeStore()
    let collection = context.collection
    let exists = try await store.collectionExists(collection)
    let info = exists ? try await store.info(collection) : nil
    let metadata = info?.metadata
    let repository = context.repository
    let head = repository.flatMap { try? $0.head() }
    var behind: Int?
    var relation: String?
    let upload = repository.flatMap { repository in
      head.map { metadata.map { $0.source } != nil && metadata?.source != GitCommitSource(repository: repository, commit: $0).identity }
    } ?? (metadata != nil)
    if let repository, let head, !upload, let lastHex = metadata?.lastIndexedCommit {
      if let last = ObjectID(hex: lastHex), repository.commitExists(last), let counts = try? repository.aheadBehind(local: last, upstream: head) {
        behind = counts.behind
        relation = Self.relation(ahead: counts.ahead, behind: counts.behind, branch: repository.headBranchName())
      } else {
        relation = "the indexed commit is not in this repository's history (rewritten or gone); a sync reconciles by content"
      }
    }
    var pending: SyncReport?
    if let repository, head != nil, !upload {
      var options = SyncOptions(collection: collection)
      options.dryRun = true
      options.maxFileSize = try context.maxFileSize()
      let embedder: any Embedder = (metadata?.dimension ?? 1) == 0 ? NoEmbedder() : ((try? context.makeEmbedder(recorded: metadata)) ?? NoEmbedder())
      options.fit(to: embedder)
      let engine = SyncEngine(store: store, embedder: embedder, cache: nil, options: options)
      pending = try? await engine.sync(repository: repository)
    }
    let status = Status(
      store: store.location, collection: collection, exists: exists, embedder: metadata?.embedder,
      dimension: metadata?.dimension, chunks: info?.points, files: info?.files,
      lastIndexedCommit: metadata?.lastIndexedCommit, lastIndexedAt: metadata?.lastIndexedAt, head: head?.hex,
      commitsBehind: behind, relation: relation, upload: metadata == nil ? nil : upload,
      dirty: repository.flatMap { try? $0.isDirty() } ?? false, pendingSync: pending,
      lease: exists ? try await (store as? any SyncLeasing)?.lease(collection) : nil,
      unfinishedSyncs: metadata.flatMap { $0.pendingTargets.isEmpty ? nil : $0.pendingTargets },
      source: metadata?.source, rootCommits: metadata?.rootCommits)
    if json {
      print(try JSONOutput.encode(status))
      return
    }
    print("store:       \(status.store)")
    let create = repository == nil ? "outside a repository: index a folder with `git rag sync --dir PATH` or a remote with `git rag upload repo URL`" : "run `git rag sync`"
    print("collection:  \(collection)\(exists ? "" : " (not created yet: \(create))")")
    if let metadata {
      print("embedder:    \(metadata.embedder)")
      if metadata.embedder.hasPrefix("local:") { print("model runs:  \(LocalEmbedder.runtimeDescription())") }
      print("chunks:      \(info?.points ?? 0) in \(info?.files ?? 0) files")
      print("indexed at:  \(metadata.lastIndexedCommit.map { String($0.prefix(12)) } ?? "nothing yet")\(metadata.lastIndexedAt.map { " (\($0))" } ?? "")")
      print("source:      \(metadata.source)\(metadata.rootCommits.first.map { " (root commit \($0.prefix(12)))" } ?? "")\(upload ? ", an upload, not this repository's HEAD" : "")")
      for target in Set(metadata.pendingTargets.values).sorted() {
        print("unfinished:  a sync towards \(target.isEmpty ? "the working folder" : String(target.prefix(12))) (the next sync revisits what it wrote)")
      }
    }
    if let lease = status.lease {
      let state = lease.isStale() ? "lapsed" : "until \(Timestamp.string(secondsSince1970: lease.expiresAt))"
      print("lease:       \(lease.owner), syncing towards \(lease.target.prefix(12)), \(state)")
    }
    if let head, !upload {
      let branch = repository?.headBranchName().map { "on \($0)" } ?? "detached"
      print("HEAD:        \(head.hex.prefix(12)) (\(branch))\(status.dirty ? " with uncommitted changes" : "")")
    }
    if let relation { print("index:       \(relation)") }
    if let pending {
      if pending.mode == .upToDate {
        print("sync would:  nothing (up to date)")
      } else {
        print("sync would:  \(pending.mode.rawValue): \(pending.filesAdded) added, \(pending.filesModified) modified, \(pending.filesDeleted) deleted, \(pending.filesRenamed) renamed")
      }
    }
  }

  /// How the indexed commit stands to HEAD: `ahead` commits only it has, `behind` only HEAD has.
  static func relation(ahead: Int, behind: Int, branch: String?) -> String {
    let head = branch.map { "HEAD (\($0))" } ?? "HEAD"
    func commits(_ n: Int) -> String { "\(n) commit\(n == 1 ? "" : "s")" }
    switch (ahead, behind) {
    case (0, 0): return "at \(head)"
    case (0, let behind): return "\(commits(behind)) behind \(head); `git rag sync` catches up"
    case (let ahead, 0): return "\(commits(ahead)) ahead of \(head): indexed on another branch; `git rag sync` goes back"
    case let (ahead, behind):
      return "on another branch: \(commits(ahead)) \(head) lacks, \(commits(behind)) the index lacks; `git rag sync` switches it"
    }
  }
}
