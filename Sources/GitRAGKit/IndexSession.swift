import Embedding
import Foundation
import Git
import GitRAGCore
import Indexing
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// A search as a front end asks it: the command line's flags, or an MCP tool's arguments.
public struct SearchOptions: Sendable {
  /// Results are bounded: beyond this a request is refused rather than allocated.
  public static let maxResults = 1_000

  public var query: String
  public var limit = 10
  public var files = false
  public var pathGlob: String?
  public var language: String?
  /// Search HEAD's index only, without the working tree's uncommitted changes.
  public var committedOnly = false
  /// Fail when the query cannot be embedded, instead of answering from the keyword index alone.
  public var requireVectors = false

  public init(query: String) { self.query = query }

  /// Refuses an empty query or a result count out of range, with the CLI's usage message.
  public func validate() throws {
    guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw GitRAGError("Give a query, e.g. git rag search \"where are retries configured\".", exitCode: 2)
    }
    guard (1...Self.maxResults).contains(limit) else {
      throw GitRAGError("-k must be between 1 and \(Self.maxResults), got \(limit).", exitCode: 2)
    }
  }
}

/// The index of one repository opened for a front end: the store, the embedder and the
/// working-tree overlay, built once through `CommandContext` and kept warm between requests
/// (the MCP server keeps one for its whole life; a CLI command uses one for one request).
public final class IndexSession: @unchecked Sendable {
  // @unchecked: one task uses a session at a time (a CLI command; the MCP server runs its tool
  // calls one after another), and libgit2's repository handle is not shared beyond it.
  public let context: CommandContext
  public let store: any VectorStore
  public let collection: String
  private var embedder: (any Embedder)?
  private var cache: EmbeddingCache??
  /// The working tree's uncommitted chunks (its store stays open between searches).
  private lazy var overlay = WorkingTreeOverlay(directory: context.storeDirectory, collection: collection)

  public init(context: CommandContext) throws {
    self.context = context
    store = try context.makeStore()
    collection = context.collection
  }

  /// The configured embedder (else the one `recorded` in the collection's metadata), made on first
  /// use and kept.
  public func configuredEmbedder(recorded: IndexMetadata? = nil) throws -> any Embedder {
    if let embedder { return embedder }
    let made = try context.makeEmbedder(recorded: recorded)
    embedder = made
    return made
  }

  private func embeddingCache() -> EmbeddingCache? {
    if let cache { return cache }
    let made = context.makeCache()
    cache = .some(made)
    return made
  }

  /// Searches the index, and the working tree's uncommitted changes unless `committedOnly`.
  public func search(_ options: SearchOptions) async throws -> SearchResponse {
    try options.validate()
    guard try await store.collectionExists(collection) else {
      throw GitRAGError(
        "Collection \(collection) not found in \(store.location). Run `git rag sync` first, or pick one from `git rag collection list`.")
    }
    let metadata = try await store.metadata(collection)
    // A collection named after this repository's folder may hold another repository's index.
    if context.explicitCollection == nil, let repository = context.repository, let metadata, let head = try? repository.head() {
      try RepositoryIdentity(repository: repository, head: head).checkOwns(metadata, collection: collection, location: store.location)
    }
    var embedder: (any Embedder)?
    if (metadata?.dimension ?? 0) > 0 {
      let configured = try configuredEmbedder(recorded: metadata)
      await context.prime(configured, metadata: metadata)
      if let metadata, try await configured.fingerprint != metadata.embedder {
        throw SyncError.embedderMismatch(collection: collection, stored: metadata.embedder, configured: try await configured.fingerprint)
      }
      embedder = configured
    }
    var engine = SearchEngine(store: store, embedder: embedder, collection: collection)
    engine.requireVectors = options.requireVectors
    let repository = context.repository
    var changes: [WorkingTreeChange] = []
    let searchWorkingTree = !options.committedOnly && repository?.workdir != nil
    if let repository, searchWorkingTree {
      let overlayEmbedder: any Embedder = embedder ?? NoEmbedder()
      let view = try await overlay.refresh(
        repository: repository, embedder: overlayEmbedder,
        options: try context.syncOptions(collection: collection, embedder: overlayEmbedder),
        cache: embeddingCache(), committed: (store, collection))
      engine.workingTree = view
      changes = view.changes
    } else if let repository, repository.workdir != nil {
      changes = (try? repository.workingTreeChanges()) ?? []
    }
    var request = SearchRequest(query: options.query)
    request.limit = options.limit
    request.files = options.files
    request.filter = SearchFilter(pathGlob: options.pathGlob, language: options.language)

    let stamp = IndexStamp(repository: repository, metadata: metadata)
    let freshness = Freshness(
      repository: repository, stamp: stamp, changed: Set(changes.map(\.path)), workingTreeSearched: searchWorkingTree)
    var response = SearchResponse(stamp: stamp, workingTree: WorkingTreeSummary(searched: searchWorkingTree, changes: changes))
    response.plan = QueryPlan(query: request.query, analyze: engine.analyzeQuery, weights: engine.queryWeights)
    response.usedVectors = embedder != nil
    if options.files {
      response.files = try await engine.files(request).map { FileResult(hit: $0, best: freshness.result($0.best)) }
    } else {
      response.ranked = try await engine.rankedChunks(request)
      response.chunks = response.ranked.map { freshness.result($0.hit) }
    }
    return response
  }

  /// The index against HEAD and the working tree; `pending` adds what a sync would do (a dry run).
  /// A damaged store ends in an error with the way out, not in a healthy-looking status: the
  /// quick check always, every page and index with `thorough`.
  public func status(pending: Bool = true, thorough: Bool = false) async throws -> IndexStatus {
    let exists = try await store.collectionExists(collection)
    if exists { try await store.checkIntegrity(collection, thorough: thorough) }
    let info = exists ? try await store.info(collection) : nil
    let metadata = info?.metadata
    let repository = context.repository
    let head = repository.flatMap { try? $0.head() }
    var behind: Int?
    var relation: String?
    // A collection holding another source than this repository is an upload: HEAD says nothing
    // about its freshness.
    let upload =
      repository.flatMap { repository in
        head.map { metadata != nil && metadata?.source != GitCommitSource(repository: repository, commit: $0).identity }
      } ?? (metadata != nil)
    if let repository, let head, !upload, let lastHex = metadata?.lastIndexedCommit {
      if let last = ObjectID(hex: lastHex), repository.commitExists(last),
        let counts = try? repository.aheadBehind(local: last, upstream: head)
      {
        behind = counts.behind
        relation = IndexStatus.relation(ahead: counts.ahead, behind: counts.behind, branch: repository.headBranchName())
      } else {
        relation = "the indexed commit is not in this repository's history (rewritten or gone); a sync reconciles by content"
      }
    }
    var pendingSync: SyncReport?
    if pending, let repository, head != nil, !upload {
      let embedder: any Embedder =
        (metadata?.dimension ?? 1) == 0 ? NoEmbedder() : ((try? configuredEmbedder(recorded: metadata)) ?? NoEmbedder())
      var options = try context.syncOptions(collection: collection, embedder: embedder)
      options.dryRun = true
      let engine = SyncEngine(store: store, embedder: embedder, cache: nil, options: options)
      pendingSync = try? await engine.sync(repository: repository)
    }
    let changes = repository?.workdir == nil ? [] : ((try? repository?.workingTreeChanges()) ?? [])
    let lock = SyncLock(directory: context.storeDirectory, collection: collection)
    let holder = lock.holder()
    return IndexStatus(
      store: store.location, collection: collection, exists: exists, embedder: metadata?.embedder,
      dimension: metadata?.dimension, chunks: info?.points, files: info?.files,
      lastIndexedCommit: metadata?.lastIndexedCommit, lastIndexedAt: metadata?.lastIndexedAt, head: head?.hex,
      commitsBehind: behind, relation: relation, upload: metadata == nil ? nil : upload,
      headBranch: repository?.headBranchName(), dirty: repository.flatMap { try? $0.isDirty() } ?? false,
      workingTree: WorkingTreeSummary(searched: nil, changes: changes), syncRunning: holder != nil, syncHolder: holder,
      pendingSync: pendingSync,
      lease: exists ? try await (store as? any SyncLeasing)?.lease(collection) : nil,
      unfinishedSyncs: metadata.flatMap { $0.pendingTargets.isEmpty ? nil : $0.pendingTargets },
      source: metadata?.source, rootCommits: metadata?.rootCommits)
  }

  /// Brings the index to HEAD. A sync already running (a hook's) is waited for rather than raced:
  /// it is asked to go round once more, and this one runs after it (usually finding nothing to do).
  public func syncWaiting(onEvent: (@Sendable (SyncEvent) -> Void)? = nil) async throws -> SyncReport {
    let repository = try context.requireRepository()
    let lock = SyncLock(directory: context.storeDirectory, collection: collection)
    var waited = false
    while case .heldBy = try lock.acquire() {
      waited = true
      try await Task.sleep(for: .milliseconds(100))
    }
    defer { lock.release() }
    // The request we left was for the holder; this sync starts after it, so it covers it.
    if waited { _ = lock.takeRequest() }
    let recorded = (try? await store.metadata(collection)) ?? nil
    let embedder = try configuredEmbedder(recorded: recorded)
    await context.prime(embedder, metadata: recorded)
    var engine = SyncEngine(
      store: store, embedder: embedder, cache: embeddingCache(),
      options: try context.syncOptions(collection: collection, embedder: embedder))
    engine.onEvent = onEvent
    var report = try await engine.sync(repository: repository)
    while lock.takeRequest() || lock.releaseUnlessRequested() {
      let again = try Repository.discover(from: repository.workdir ?? repository.gitDir, environment: context.environment)
      report.merge(try await engine.sync(repository: again))
      report.rounds += 1
    }
    return report
  }
}

/// Whether each hit's file changed after the commit it was indexed at.
struct Freshness {
  let changed: Set<String>
  let workingTreeSearched: Bool
  /// HEAD's blob per path, read only when the index is behind HEAD.
  let headBlobs: [String: String]?

  init(repository: Repository?, stamp: IndexStamp, changed: Set<String>, workingTreeSearched: Bool) {
    self.changed = changed
    self.workingTreeSearched = workingTreeSearched
    if stamp.stale, let repository, let head = try? repository.head(), let entries = try? repository.treeEntries(commit: head) {
      headBlobs = Dictionary(entries.map { ($0.path, $0.id.hex) }, uniquingKeysWith: { a, _ in a })
    } else {
      headBlobs = nil
    }
  }

  func result(_ hit: SearchHit) -> ChunkResult {
    let path = hit.payload.filePath
    // With the working tree searched, a changed path's hits are its working-tree chunks.
    let fromWorkingTree = workingTreeSearched && changed.contains(path)
    let committedSince = headBlobs.map { $0[path] != hit.payload.fileHash } ?? false
    let fileChanged = fromWorkingTree ? false : (committedSince || changed.contains(path))
    return ChunkResult(hit: hit, workingTree: fromWorkingTree, fileChanged: fileChanged)
  }
}

/// `status`: the index against HEAD and the working tree.
public struct IndexStatus: Encodable, Sendable {
  public var store: String
  public var collection: String
  public var exists: Bool
  public var embedder: String?
  public var dimension: Int?
  public var chunks: Int?
  public var files: Int?
  public var lastIndexedCommit: String?
  public var lastIndexedAt: String?
  public var head: String?
  public var commitsBehind: Int?
  /// How the indexed commit relates to HEAD, in words.
  public var relation: String?
  /// The collection holds another source (an upload), so HEAD says nothing about its freshness.
  public var upload: Bool?
  /// The branch HEAD is on (nil when detached).
  public var headBranch: String?
  public var dirty: Bool
  public var workingTree: WorkingTreeSummary
  /// Another process (a hook's sync) holds the sync lock.
  public var syncRunning: Bool
  /// Who holds the sync lock (pid and start time, as the holder wrote them), when one does.
  public var syncHolder: SyncLock.Holder?
  public var pendingSync: SyncReport?
  /// The sync holding the collection's lease (shared Qdrant collections), if any.
  public var lease: SyncLease?
  /// Commits unfinished syncs were writing towards, by writer.
  public var unfinishedSyncs: [String: String]?
  /// Where the index comes from, and the root commits that identify its repository.
  public var source: String?
  public var rootCommits: [String]?
}

extension IndexStatus {
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

extension SyncReport {
  /// Adds a further round's work (a sync that went round again for a hook).
  public mutating func merge(_ other: SyncReport) {
    // A round with nothing to do does not hide the work of the rounds before it.
    if other.mode != .upToDate || mode == .upToDate { mode = other.mode }
    base = base ?? other.base
    target = other.target
    filesAdded += other.filesAdded
    filesModified += other.filesModified
    filesDeleted += other.filesDeleted
    filesRenamed += other.filesRenamed
    filesIndexed += other.filesIndexed
    filesSkipped += other.filesSkipped
    chunksWritten += other.chunksWritten
    chunksEmbedded += other.chunksEmbedded
    chunksReused += other.chunksReused
    seconds += other.seconds
    skipped += other.skipped
  }
}
