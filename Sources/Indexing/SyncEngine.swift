import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import Logging
import Store

/// Settings of one sync.
public struct SyncOptions: Sendable {
  public var collection: String
  public var dryRun = false
  /// Drop the collection and index from scratch (the way out of an embedder change).
  public var reindex = false
  public var maxFileSize = 1 << 20
  public var chunking = ChunkingOptions()
  /// Chunks per embed-and-write step (bounds memory on large repositories).
  public var slabChunks = 512
  /// Points per upsert call.
  public var upsertBatch = 256
  /// Index or replace only the source's files: every other file of the collection and the
  /// recorded commit stay as they are (`upload file`). Set by `upsertFiles(source:)`.
  public var partial = false
  /// Secret rules waved through for every path (`rag.allowSecretRules`); paths add their own
  /// with the `rag-allow-secrets` attribute.
  public var secretAllowance = SecretAllowance.none
  /// In a dry run, embed a small sample of the chunks to estimate how long embedding the rest
  /// takes (for an embedder that runs here; a remote API's time is not guessed).
  public var timeSample = false
  /// Seconds a sync's lease on a shared (Qdrant) collection lasts unless renewed; a sync renews
  /// it as it goes, and others wait for it (or take it over once it lapses).
  public var leaseSeconds = 120
  /// Rounds a sync goes when the collection keeps moving under it, before it gives up.
  public var maxRounds = 6

  public init(collection: String) { self.collection = collection }

  /// Chunks no longer than `embedder` reads: its token limit, counted with its tokenizer.
  public mutating func fit(to embedder: any Embedder) {
    chunking.maxTokens = embedder.tokenLimit
    chunking.tokenCounter = nil
    if embedder.tokenLimit != nil {
      chunking.tokenCounter = { text in embedder.tokenCount(text) ?? (text.utf8.count / 3) }
    }
  }
}

/// What a sync did (or, with `--dry-run`, would do).
public struct SyncReport: Sendable, Codable {
  public var collection: String
  public var mode: SyncPlan.Mode
  public var base: String?
  public var target: String?
  public var dryRun: Bool
  public var filesAdded = 0
  public var filesModified = 0
  public var filesDeleted = 0
  public var filesRenamed = 0
  public var filesIndexed = 0
  public var filesSkipped = 0
  public var chunksWritten = 0
  public var chunksEmbedded = 0
  public var chunksReused = 0
  public var estimatedTokens = 0
  public var seconds = 0.0
  public var rounds = 1
  public var skipped: [SkippedFile] = []
  /// Dry run: where the chunks to write come from, by folder (two levels deep) and by extension,
  /// most tokens to embed first.
  public var folders: [Share]? = nil
  public var extensions: [Share]? = nil
  /// Dry run with `timeSample`: estimated seconds to embed what is to embed.
  public var estimatedSeconds: Double? = nil

  /// Files, chunks and tokens to embed under one folder or extension.
  public struct Share: Sendable, Codable, Hashable {
    public var name: String
    public var files = 0
    public var chunks = 0
    public var tokens = 0
  }

  public struct SkippedFile: Sendable, Codable, Hashable {
    public var path: String
    public var reason: String
  }

  init(collection: String, plan: SyncPlan, dryRun: Bool) {
    self.collection = collection
    mode = plan.mode
    base = plan.base
    target = plan.target
    self.dryRun = dryRun
    filesAdded = plan.added
    filesModified = plan.modified
    filesDeleted = plan.deleted
    filesRenamed = plan.renamed
  }
}

/// Progress events for a progress bar or plain log lines.
public enum SyncEvent: Sendable {
  case planned(SyncPlan)
  case indexed(IndexProgress)
  case skipped(path: String, reason: String)
  /// Another sync holds the collection's lease: this one waits for it (sent once per wait).
  case waitingForLease(SyncLease)
  /// The collection moved under this sync (another writer claimed a commit or started writing,
  /// or the lease was lost): it plans again from what the collection now holds.
  case replanning(reason: String)
}

/// How far indexing is: files and chunks written, and bytes of the files behind them. Bytes track
/// the chunks and tokens still to embed (a file count does not: files differ a thousandfold).
public struct IndexProgress: Sendable {
  public var files = 0
  public var totalFiles = 0
  public var chunks = 0
  public var bytes = 0
  /// Bytes of every file to index that is within the size limit.
  public var totalBytes = 0
}

/// Runs the sync of docs/architecture.md ("A sync") against one store and one embedder.
public struct SyncEngine: Sendable {
  public let store: any VectorStore
  public let embedder: any Embedder
  public let cache: EmbeddingCache?
  public var options: SyncOptions
  public var logger = Logger(label: "git-rag.sync")
  public var onEvent: (@Sendable (SyncEvent) -> Void)?
  /// Another collection whose vectors are reused by chunk hash before anything is embedded (the
  /// working-tree overlay borrows the committed index's).
  public var vectorDonor: (store: any VectorStore, collection: String)?
  /// Test hook: called before each write step with its name; throwing aborts the sync there.
  public var faultInjection: (@Sendable (String) throws -> Void)?

  public init(store: any VectorStore, embedder: any Embedder, cache: EmbeddingCache?, options: SyncOptions) {
    self.store = store
    self.embedder = embedder
    self.cache = cache
    self.options = options
  }

  /// Every setting that changes what is indexed, recorded as the collection's `chunker_version`:
  /// the chunker's version and options, then after `|` the filters' and secret rules' versions and
  /// the size limit. A change of the first part re-chunks every file; of the second, re-checks
  /// which files belong.
  public var chunkerVersion: String {
    let chunking = options.chunking
    let allowed = options.secretAllowance.rules.sorted().joined(separator: ",")
    return "\(Chunker.version);chars=\(chunking.maxCharacters);overlap=\(chunking.overlapLines);tokens=\(chunking.maxTokens ?? 0)"
      + "|\(FileFilter.version);max=\(options.maxFileSize);\(SecretRules.version)" + (allowed.isEmpty ? "" : ";allow=\(allowed)")
  }

  /// The token limit the chunks of a recorded `chunkerVersion` end at (`tokens=256`), or nil when
  /// they end at the character limit alone.
  public static func chunkTokenLimit(_ version: String) -> Int? {
    guard let field = chunkingPart(version).split(separator: ";").first(where: { $0.hasPrefix("tokens=") }),
      let tokens = Int(field.dropFirst("tokens=".count)), tokens > 0
    else { return nil }
    return tokens
  }

  /// The chunking part of a recorded `chunkerVersion` (all of it for versions written before the split).
  static func chunkingPart(_ version: String) -> Substring { version.split(separator: "|", omittingEmptySubsequences: false)[0] }

  /// Syncs a git repository's HEAD (or `commit`) into the collection.
  public func sync(repository: Repository, commit: ObjectID? = nil) async throws -> SyncReport {
    try await sync(source: GitCommitSource(repository: repository, commit: try commit ?? repository.head()))
  }

  /// Syncs any source: incrementally from the changes it declares since the last indexed commit
  /// (`ContentSource.changes(since:)`), or by reconciling its files with the store's inventory.
  public func sync(source: ContentSource) async throws -> SyncReport {
    // A rebuild killed before its swap left its staging collection; the caller holds the
    // collection's lock, so no rebuild is writing it now.
    let staging = StagingCollection.name(for: options.collection)
    if !options.dryRun, !StagingCollection.isStaging(options.collection), store is any CollectionReplacing,
      try await store.collectionExists(staging)
    {
      try await store.deleteCollection(staging)
    }
    if options.reindex, !options.dryRun, !options.partial, let replacing = store as? any CollectionReplacing,
      try await store.collectionExists(options.collection)
    {
      return try await reindexAside(replacing, source: source)
    }
    let clock = ContinuousClock.now
    let session = WriterSession()
    var round = 1
    while true {
      do {
        var report = try await syncOnce(source: source, session: session)
        await release(session)
        report.rounds = round
        report.seconds = (ContinuousClock.now - clock).seconds
        return report
      } catch let moved as CollectionMoved where round < options.maxRounds {
        logger.info("\(options.collection): \(moved.reason); planning again")
        onEvent?(.replanning(reason: moved.reason))
        round += 1
      } catch let moved as CollectionMoved {
        await release(session)
        throw SyncError.keepsMoving(collection: options.collection, rounds: round, reason: moved.reason)
      } catch {
        await release(session)
        throw error
      }
    }
  }

  /// Gives the lease back (best effort: one not given back lapses on its own).
  private func release(_ session: WriterSession) async {
    guard let lease = session.lease, let leasing = store as? any SyncLeasing else { return }
    session.lease = nil
    try? await leasing.releaseLease(options.collection, id: lease.id)
  }

  /// `--reindex` on a store that can swap collections: a full index into `<collection>.reindex`,
  /// swapped in only once it is complete. Until then the old index answers searches, and a
  /// failure leaves it as it was.
  private func reindexAside(_ store: any CollectionReplacing, source: ContentSource) async throws -> SyncReport {
    // A collection too damaged to read its metadata is what a rebuild is for: nothing to check.
    if let stored = try? await self.store.metadata(options.collection) { try checkOwnership(stored, source: source) }
    let staging = StagingCollection.name(for: options.collection)
    var engine = self
    engine.options.collection = staging
    engine.options.reindex = false
    do {
      var report = try await engine.sync(source: source)
      try await store.replaceCollection(options.collection, with: staging)
      report.collection = options.collection
      return report
    } catch {
      try? await store.deleteCollection(staging)
      throw error
    }
  }

  /// Indexes the source's files, replacing earlier versions of the same paths, and leaves every
  /// other file of the collection alone (`upload file`). An unchanged file is a no-op.
  public func upsertFiles(source: ContentSource) async throws -> SyncReport {
    var engine = self
    engine.options.partial = true
    return try await engine.sync(source: source)
  }

  /// One round of a sync: plan, then pure renames, then indexing (chunk, embed, write, remove old
  /// versions), then the claim of the commit. Throws `CollectionMoved` when another writer changed
  /// the collection meanwhile.
  func syncOnce(source snapshot: ContentSource, session: WriterSession) async throws -> SyncReport {
    let fingerprint = try await embedder.fingerprint
    let dimension = try await embedder.dimension
    let prepared = try await prepareCollection(fingerprint: fingerprint, dimension: dimension, source: snapshot)
    let metadata = try await leaseIfShared(prepared.metadata, target: snapshot.revision, session: session)
    // Every read of content below goes through the gate (filters, secrets redacted or skipped);
    // the snapshot plus the Python project summary, which declares its own changes.
    let gate = ContentGate(snapshot, filter: FileFilter(maxFileSize: options.maxFileSize), allowance: options.secretAllowance)
    let source = try await withPythonAnalysis(gate, collectionExisted: prepared.existed)

    let plan = try await plan(source: source, metadata: metadata)
    onEvent?(.planned(plan))
    Trace.mark("planned: \(plan.mode)")
    var report = SyncReport(collection: options.collection, plan: plan, dryRun: options.dryRun)
    var writes = try await resolveMoves(plan, source: source, gate: gate, collectionExists: metadata != nil)
    if options.dryRun {
      try await estimate(files: writes.index, source: source, fingerprint: fingerprint, report: &report)
      return report
    }
    if plan.writesNothing { return report }

    // The store must be whole before the claim: damage in pages this sync never touches would
    // otherwise hide behind an up-to-date commit. A store left exactly as the last passed check
    // and its sync's writes left it needs no new check (SQLite's own writes keep it whole).
    let unchanged = await store.isUnchangedSinceWhole(options.collection)
    try await markPending(metadata, target: source.revision, session: session)
    try await index(&writes, plan: plan, source: source, fingerprint: fingerprint, session: session, report: &report)
    if !unchanged {
      try await store.checkIntegrity(options.collection, thorough: false)
      Trace.mark("store checked")
    }
    try await claim(metadata, source: source, session: session)
    await store.recordWhole(options.collection)
    return report
  }

  // MARK: - Plan

  /// Reads what the plan needs (the source's changes, or its files and the store's inventory),
  /// then plans.
  private func plan(source: ContentSource, metadata: IndexMetadata?) async throws -> SyncPlan {
    var inputs = PlanInputs(metadata: metadata, chunkerVersion: chunkerVersion, target: source.revision, partial: options.partial)
    if inputs.needsChanges, let base = inputs.base, let changes = try source.changes(since: base) {
      inputs.changes = changes
      for commit in inputs.interrupted where !commit.isEmpty {
        guard let changed = try source.changes(since: commit) else { break }
        inputs.interruptedChanges[commit] = changed
      }
    }
    if inputs.needsSnapshot {
      inputs.files = try source.files()
      inputs.inventory = metadata == nil ? [:] : try await store.inventory(options.collection)
    }
    return SyncPlanner.plan(inputs)
  }

  // MARK: - Moves

  /// What the write steps do once the plan's moves are resolved against the stored points.
  struct Writes {
    /// Points of pure renames, at their new paths with their vectors.
    var moved: [Point] = []
    /// Files to read, chunk and embed.
    var index: [SourceFile]
    /// Paths whose points all go, after the new versions are in.
    var removals: [String]
  }

  /// Pure renames: the chunks move to the new path with their vectors. A move whose new name the
  /// gate treats differently, or whose stored points are not all of its blob, is indexed instead.
  private func resolveMoves(_ plan: SyncPlan, source: ContentSource, gate: ContentGate, collectionExists: Bool) async throws -> Writes {
    var writes = Writes(index: plan.index, removals: plan.removals)
    guard !plan.moves.isEmpty, collectionExists else {
      writes.index.append(contentsOf: plan.moves.map(\.to))
      return writes
    }
    let existing = try await store.points(options.collection, filePaths: plan.moves.map(\.from))
    let byPath = Dictionary(grouping: existing, by: \.payload.filePath)
    for move in plan.moves {
      // A new name may be a secret's, or allow other secret rules: then the content is gated again.
      if gate.precheck(move.to.path, kind: move.to.kind) != nil || gate.secretAllowance(move.from) != gate.secretAllowance(move.to.path) {
        if gate.precheck(move.to.path, kind: move.to.kind) == nil { writes.index.append(move.to) }
        writes.removals.append(move.from)
        continue
      }
      guard let points = byPath[move.from], points.allSatisfy({ $0.payload.fileHash == move.to.hash }), !points.isEmpty else {
        writes.index.append(move.to)
        writes.removals.append(move.from)
        continue
      }
      for point in points {
        var payload = point.payload
        payload.filePath = move.to.path
        payload.commit = source.revision ?? ""
        payload.timestamp = Timestamp.now()
        writes.moved.append(Point(payload: payload, vector: point.vector))
      }
      writes.removals.append(move.from)
    }
    return writes
  }

  // MARK: - Index

  /// From here the store changes: records where this sync is going (under its own key, which no
  /// other writer overwrites), so that if it dies, or another sync claims a commit meanwhile, the
  /// next one also revisits what it may have half-written, wherever HEAD has moved by then.
  private func markPending(_ metadata: IndexMetadata?, target: String?, session: WriterSession) async throws {
    guard metadata != nil, !options.partial else { return }
    try await renewLease(session)
    try await store.updateMetadata(options.collection, set: [IndexMetadata.pendingTargetKey(session.id): target ?? ""], remove: [])
  }

  /// Writes the moved points; chunks, reuses or embeds and upserts the files to index (embedding
  /// of one slab overlaps with reading and chunking the next); then removes old versions and
  /// deleted files, only after the new ones are in.
  private func index(
    _ writes: inout Writes, plan: SyncPlan, source: GatedSource, fingerprint: String, session: WriterSession,
    report: inout SyncReport
  ) async throws {
    let collection = options.collection
    if !writes.moved.isEmpty {
      try faultInjection?("moves")
      for batch in writes.moved.chunked(options.upsertBatch) { try await store.upsert(collection, points: Array(batch)) }
      report.chunksWritten += writes.moved.count
      report.chunksReused += writes.moved.count
    }

    var chunkCounts: [String: Int] = [:]
    try await indexFiles(
      writes.index, source: source, fingerprint: fingerprint, session: session, report: &report, chunkCounts: &chunkCounts)
    Trace.mark("indexed \(writes.index.count) files")
    // A file the gate keeps out has no points, whatever an earlier index under other rules stored.
    writes.removals.append(contentsOf: report.skipped.map(\.path))

    try faultInjection?("delete")
    try await renewLease(session)
    if !plan.replacements.isEmpty { try await store.deleteStale(collection, keeping: plan.replacements) }
    for batch in writes.removals.chunked(500) { try await store.deleteFiles(collection, paths: Array(batch)) }
    if let staleSweep = plan.staleSweep { try await store.deleteStale(collection, keeping: staleSweep) }
    for batch in plan.rechunked.sorted().chunked(200) {
      let stale = try await store.points(collection, filePaths: Array(batch))
        .filter { $0.payload.chunkIndex >= chunkCounts[$0.payload.filePath, default: 0] }
        .map(\.id)
      if !stale.isEmpty { try await store.deletePoints(collection, ids: stale) }
    }
    Trace.mark("removed old versions")
  }

  // MARK: - Commit

  /// Only now, with the store checked whole, does the index claim the new commit. `planned` is
  /// the metadata the plan was made from (nil: the collection was created by this sync).
  private func claim(_ planned: IndexMetadata?, source: ContentSource, session: WriterSession) async throws {
    let collection = options.collection
    try faultInjection?("metadata")
    guard let planned, !options.partial else { return }
    // Claim only what this sync made true: if another writer claimed a commit or started
    // writing since this one planned, its plan no longer covers the collection.
    let fresh = try await store.metadata(collection)
    if let reason = movedReason(planned: planned, fresh: fresh, session: session) { throw CollectionMoved(reason: reason) }
    try await renewLease(session, force: true)
    var set = [
      "last_indexed_at": Timestamp.now(), "chunker_version": chunkerVersion, "source": source.identity,
      "claim_id": UUID().uuidString.lowercased(),
    ]
    var remove = Set(planned.pendingTargets.keys.map(IndexMetadata.pendingTargetKey))
    remove.insert(IndexMetadata.pendingTargetKey(session.id))
    if let revision = source.revision { set["last_indexed_commit"] = revision } else { remove.insert("last_indexed_commit") }
    // Recorded once (walking the history costs time on every sync otherwise); a collection made
    // before identities were recorded, or from a shallow clone, gets them from a full one.
    if planned.rootCommits.isEmpty, let roots = try source.repositoryIdentity?.rootCommits() {
      set["root_commits"] = roots.joined(separator: ",")
    }
    try await store.updateMetadata(collection, set: set, remove: remove.sorted())
  }

  /// Why the collection no longer is as this sync planned from, or nil when it is.
  private func movedReason(planned: IndexMetadata, fresh: IndexMetadata?, session: WriterSession) -> String? {
    guard let fresh else { return "the collection was deleted" }
    if fresh.lastIndexedCommit != planned.lastIndexedCommit || fresh.claimID != planned.claimID {
      return "another sync indexed \(fresh.lastIndexedCommit.map { String($0.prefix(12)) } ?? "nothing") meanwhile"
    }
    // Another sync took this one's writes over (it recovered them and removed their mark).
    if fresh.pendingTargets[session.id] == nil { return "another sync took over this one's writes" }
    let known = Set(planned.pendingTargets.keys).union([session.id])
    if let other = fresh.pendingTargets.first(where: { !known.contains($0.key) }) {
      return "another sync started writing towards \(other.value.prefix(12)) meanwhile"
    }
    return nil
  }

  // MARK: - Lease (shared collections)

  /// On a shared collection, waits for the lease, then returns what the collection holds by then
  /// (unless it already holds `target`: nothing to write, no lease needed).
  private func leaseIfShared(_ metadata: IndexMetadata?, target: String?, session: WriterSession) async throws -> IndexMetadata? {
    guard let metadata, !options.dryRun, !options.partial, let leasing = store as? any SyncLeasing else { return metadata }
    let upToDate =
      metadata.pendingTargets.isEmpty && metadata.lastIndexedCommit != nil && metadata.lastIndexedCommit == target
      && metadata.chunkerVersion == chunkerVersion
    if upToDate { return metadata }
    try await takeLease(leasing, target: target ?? "", session: session)
    return try await store.metadata(options.collection) ?? metadata
  }

  /// Takes the collection's lease, waiting while another live sync holds it; a lease whose holder
  /// is gone (lapsed, or a dead process on this host) is taken over.
  private func takeLease(_ leasing: any SyncLeasing, target: String, session: WriterSession) async throws {
    if session.lease != nil { return try await renewLease(session, force: true) }
    var mine = SyncLease.mine(target: target, seconds: options.leaseSeconds)
    mine.id = session.id
    var stale: String?
    var announced = false
    var delay = Duration.milliseconds(100)
    while true {
      mine.expiresAt = SyncLease.now() + options.leaseSeconds
      let current = try await leasing.tryLease(options.collection, mine, replacing: stale)
      if current?.id == mine.id {
        session.lease = mine
        session.renewed = .now
        return
      }
      if let current, current.isStale(), current.id != stale {
        stale = current.id
        continue
      }
      if let current, !announced {
        announced = true
        onEvent?(.waitingForLease(current))
      }
      stale = nil
      try await Task.sleep(for: delay)
      delay = min(delay * 2, .seconds(2))
    }
  }

  /// Extends the lease when a quarter of it has passed (or `force`); throws `CollectionMoved`
  /// when another sync has taken it over meanwhile.
  func renewLease(_ session: WriterSession, force: Bool = false) async throws {
    guard var lease = session.lease, let leasing = store as? any SyncLeasing else { return }
    if !force, ContinuousClock.now - session.renewed < .seconds(options.leaseSeconds / 4) { return }
    lease.expiresAt = SyncLease.now() + options.leaseSeconds
    let current = try await leasing.tryLease(options.collection, lease, replacing: nil)
    guard current?.id == lease.id else {
      session.lease = nil
      throw CollectionMoved(reason: "the lease was taken over by \(current?.owner ?? "another sync")")
    }
    session.lease = lease
    session.renewed = .now
  }

  /// Creates the collection when missing; refuses a collection of another repository, or one
  /// built by another embedder. Returns nil only in a dry run of a collection that does not exist yet.
  private func prepareCollection(
    fingerprint: String, dimension: Int, source: ContentSource
  ) async throws -> (metadata: IndexMetadata?, existed: Bool) {
    let collection = options.collection
    let exists = try await store.collectionExists(collection)
    let stored = exists ? try await store.metadata(collection) : nil
    if let stored { try checkOwnership(stored, source: source) }
    if exists, options.reindex, !options.dryRun {
      try await store.deleteCollection(collection)
    } else if let stored {
      guard stored.embedder == fingerprint || options.reindex else {
        throw SyncError.embedderMismatch(collection: collection, stored: stored.embedder, configured: fingerprint)
      }
      return (stored, true)
    } else if exists {
      throw SyncError.foreignCollection(collection: collection, location: store.location)
    }
    let metadata = IndexMetadata(
      embedder: fingerprint, dimension: dimension, chunkerVersion: chunkerVersion, source: source.identity,
      rootCommits: options.partial ? [] : (try source.repositoryIdentity?.rootCommits()) ?? [])
    if options.dryRun { return (nil, false) }
    do {
      try await store.createCollection(collection, metadata: metadata)
    } catch {
      // Another machine created it first: sync into theirs if it is this repository's.
      guard try await store.collectionExists(collection), let theirs = try await store.metadata(collection) else { throw error }
      try checkOwnership(theirs, source: source)
      guard theirs.embedder == fingerprint else {
        throw SyncError.embedderMismatch(collection: collection, stored: theirs.embedder, configured: fingerprint)
      }
      return (theirs, true)
    }
    return (metadata, false)
  }

  /// Refuses to write a repository's (or an upload's) index into a collection of another
  /// repository. `upload file` adds files beside whatever the collection holds, so it may.
  private func checkOwnership(_ metadata: IndexMetadata, source: ContentSource) throws {
    guard !options.partial else { return }
    if let owner = source.repositoryIdentity {
      try owner.checkOwns(metadata, collection: options.collection, location: store.location)
    } else if !metadata.rootCommits.isEmpty {
      throw SyncError.otherRepository(
        collection: options.collection, location: store.location,
        owner: RepositoryIdentity.describe(metadata.source, root: metadata.rootCommits.first), this: source.identity,
        suggestion: "another name")
    }
  }

  private func prepare(_ file: SourceFile, source: GatedSource, report: inout SyncReport) throws -> [ChunkPayload] {
    let text: String
    switch try source.admit(file) {
    case .failure(let reason):
      skip(file.path, reason.description, report: &report)
      return []
    case .success(let gated):
      text = gated.text
      for finding in gated.redactions { logger.debug("redacted in \(file.path): \(finding)") }
    }
    let chunks = Chunker.chunk(path: file.path, text: text, options: options.chunking)
    report.filesIndexed += 1
    let commit = source.revision ?? ""
    let now = Timestamp.now()
    return chunks.enumerated().map { index, chunk in
      ChunkPayload(
        filePath: file.path, content: chunk.content, chunkIndex: index, startLine: chunk.startLine,
        endLine: chunk.endLine, language: chunk.language, symbol: chunk.symbol, fileHash: file.hash,
        chunkHash: SHA256Digest.hex(chunk.content), commit: commit, timestamp: now)
    }
  }

  private func skip(_ path: String, _ reason: String, report: inout SyncReport) {
    report.filesSkipped += 1
    report.skipped.append(.init(path: path, reason: reason))
    logger.debug("skip \(path): \(reason)")
    onEvent?(.skipped(path: path, reason: reason))
  }

  private func indexFiles(
    _ files: [SourceFile], source: GatedSource, fingerprint: String, session: WriterSession, report: inout SyncReport,
    chunkCounts: inout [String: Int]
  ) async throws {
    guard !files.isEmpty else { return }
    var progress = IndexProgress(totalFiles: files.count)
    var sizes: [Int] = []
    if onEvent != nil {
      sizes = try files.map { file in
        guard file.kind == .regular || file.kind == .executable else { return 0 }
        let size = try source.size(of: file)
        return size > options.maxFileSize && source.ragAttribute(file.path) != .forceInclude ? 0 : size
      }
      progress.totalBytes = sizes.reduce(0, +)
    }
    var slab: [ChunkPayload] = []
    var slabFiles = 0
    var slabBytes = 0
    var done = 0
    try await withThrowingTaskGroup(of: SlabResult.self) { group in
      var inFlight = 0
      func collect(_ result: SlabResult, into report: inout SyncReport) {
        report.chunksWritten += result.written
        report.chunksEmbedded += result.embedded
        report.chunksReused += result.reused
        progress.files += result.files
        progress.bytes += result.bytes
        progress.chunks = report.chunksWritten
        onEvent?(.indexed(progress))
      }
      for (position, file) in files.enumerated() {
        let payloads = try prepare(file, source: source, report: &report)
        chunkCounts[file.path] = payloads.count
        slab.append(contentsOf: payloads)
        done += 1
        slabFiles += 1
        slabBytes += sizes.isEmpty ? 0 : sizes[position]
        if slab.count >= options.slabChunks || done == files.count {
          if inFlight > 0, let result = try await group.next() {
            inFlight -= 1
            collect(result, into: &report)
          }
          try await renewLease(session)
          let payloads = slab
          let (filesInSlab, bytesInSlab) = (slabFiles, slabBytes)
          slab.removeAll(keepingCapacity: true)
          (slabFiles, slabBytes) = (0, 0)
          let writer = self
          group.addTask {
            var result = try await writer.write(payloads, fingerprint: fingerprint)
            result.files = filesInSlab
            result.bytes = bytesInSlab
            return result
          }
          inFlight += 1
        }
      }
      while let result = try await group.next() { collect(result, into: &report) }
    }
  }

  struct SlabResult: Sendable {
    var written = 0
    var embedded = 0
    var reused = 0
    var files = 0
    var bytes = 0
  }

  /// Finds or makes a vector for every payload, then upserts them.
  private func write(_ payloads: [ChunkPayload], fingerprint: String) async throws -> SlabResult {
    var result = SlabResult()
    guard !payloads.isEmpty else { return result }
    let vectors = try await resolveVectors(payloads, fingerprint: fingerprint, result: &result)
    let points = payloads.map { Point(payload: $0, vector: vectors[$0.chunkHash]) }
    try faultInjection?("upsert")
    for batch in points.chunked(options.upsertBatch) {
      try await store.upsert(options.collection, points: Array(batch))
      result.written += batch.count
    }
    return result
  }

  /// Vectors for the payloads' chunk hashes: from the local cache, then the store, then the embedder.
  private func resolveVectors(_ payloads: [ChunkPayload], fingerprint: String, result: inout SlabResult) async throws -> [String: [Float]] {
    guard embedder.capabilities.contains(.producesVectors) else { return [:] }
    var unique: [String: String] = [:]
    for payload in payloads { unique[payload.chunkHash] = payload.content }
    var found = try cache?.vectors(fingerprint: fingerprint, chunkHashes: Array(unique.keys)) ?? [:]
    let missingFromCache = unique.keys.filter { found[$0] == nil }
    if !missingFromCache.isEmpty {
      let fromStore = try await store.vectors(options.collection, chunkHashes: missingFromCache)
      found.merge(fromStore) { a, _ in a }
      if !fromStore.isEmpty { try? cache?.store(fingerprint: fingerprint, vectors: fromStore) }
    }
    if let donor = vectorDonor, case let missing = unique.keys.filter({ found[$0] == nil }), !missing.isEmpty {
      found.merge(try await donor.store.vectors(donor.collection, chunkHashes: missing)) { a, _ in a }
    }
    let toEmbed = unique.keys.filter { found[$0] == nil }.sorted()
    if !toEmbed.isEmpty {
      let vectors = try await embedder.embed(toEmbed.map { unique[$0]! })
      var fresh: [String: [Float]] = [:]
      for (hash, vector) in zip(toEmbed, vectors) { fresh[hash] = vector }
      found.merge(fresh) { a, _ in a }
      try? cache?.store(fingerprint: fingerprint, vectors: fresh)
    }
    let embeddedSet = Set(toEmbed)
    for payload in payloads {
      if embeddedSet.contains(payload.chunkHash) { result.embedded += 1 } else { result.reused += 1 }
    }
    return found
  }

  /// Dry run: chunks what would be indexed and counts what would be embedded, by top folder and
  /// by extension.
  private func estimate(files: [SourceFile], source: GatedSource, fingerprint: String, report: inout SyncReport) async throws {
    var texts: [String: String] = [:]
    var chunksOf: [String: [String]] = [:]
    for file in files {
      let payloads = try prepare(file, source: source, report: &report)
      for payload in payloads { texts[payload.chunkHash] = payload.content }
      if !payloads.isEmpty { chunksOf[file.path] = payloads.map(\.chunkHash) }
      report.chunksWritten += payloads.count
    }
    var known = Set<String>()
    let producesVectors = embedder.capabilities.contains(.producesVectors)
    if producesVectors {
      known = Set((try cache?.vectors(fingerprint: fingerprint, chunkHashes: Array(texts.keys)) ?? [:]).keys)
      if try await store.collectionExists(options.collection) {
        let rest = texts.keys.filter { !known.contains($0) }
        known.formUnion(try await store.vectors(options.collection, chunkHashes: rest).keys)
      }
    }
    let counter = options.chunking.tokenCounter
    func tokens(_ text: String) -> Int { counter?(text) ?? (text.utf8.count + 3) / 4 }
    var tokensOf: [String: Int] = [:]
    if producesVectors {
      for (hash, text) in texts where !known.contains(hash) { tokensOf[hash] = tokens(text) }
    }

    // Each chunk to embed counts once, for the first file (in path order) that has it.
    var folders: [String: SyncReport.Share] = [:]
    var extensions: [String: SyncReport.Share] = [:]
    var counted = Set<String>()
    for path in chunksOf.keys.sorted() {
      let name = path.split(separator: "/").last.map(String.init) ?? path
      // Two levels deep (`sphinx/locale/`): one level is too coarse to choose what to exclude.
      let parents = path.split(separator: "/").dropLast()
      let folder = parents.isEmpty ? "(top level)" : parents.prefix(2).joined(separator: "/") + "/"
      let ext = name.dropFirst().contains(".") ? "." + name.split(separator: ".").last!.lowercased() : "(none)"
      var share = SyncReport.Share(name: "")
      share.files = 1
      for hash in chunksOf[path]! {
        share.chunks += 1
        if let tokens = tokensOf[hash], counted.insert(hash).inserted { share.tokens += tokens }
      }
      folders[folder, default: .init(name: folder)].add(share)
      extensions[ext, default: .init(name: ext)].add(share)
    }
    let order = { (a: SyncReport.Share, b: SyncReport.Share) in (a.tokens, a.chunks, b.name) > (b.tokens, b.chunks, a.name) }
    report.folders = folders.values.sorted(by: order)
    report.extensions = extensions.values.sorted(by: order)
    report.chunksEmbedded = tokensOf.count
    report.estimatedTokens = tokensOf.values.reduce(0, +)
    report.chunksReused = report.chunksWritten - report.chunksEmbedded
    if options.timeSample, !tokensOf.isEmpty {
      report.estimatedSeconds = try await timeEmbedding(
        tokensOf.keys.sorted().map { texts[$0]! }, totalTokens: report.estimatedTokens, tokens: tokens)
    }
  }

  /// Seconds to embed `texts` (`totalTokens` in all), from timing a spread-out sample of them
  /// after one warm-up call (which loads a local model).
  private func timeEmbedding(_ texts: [String], totalTokens: Int, tokens: (String) -> Int) async throws -> Double {
    let step = max(1, texts.count / 32)
    let sample = stride(from: 0, to: texts.count, by: step).prefix(32).map { texts[$0] }
    _ = try await embedder.embed([sample[0]])
    let start = ContinuousClock.now
    _ = try await embedder.embed(sample)
    let seconds = (ContinuousClock.now - start).seconds
    let sampleTokens = max(1, sample.map(tokens).reduce(0, +))
    return seconds * Double(totalTokens) / Double(sampleTokens)
  }
}

extension SyncReport.Share {
  mutating func add(_ other: Self) {
    files += other.files
    chunks += other.chunks
    tokens += other.tokens
  }
}

/// One sync's writer state: its id (the key of its pending target, and its lease's id) and the
/// lease it holds. Used from the syncing task only.
final class WriterSession {
  let id = UUID().uuidString.lowercased()
  var lease: SyncLease?
  var renewed = ContinuousClock.now
}

/// The collection changed under a running sync: it plans again.
struct CollectionMoved: Error {
  var reason: String
}

public enum SyncError: UserFacingError {
  case embedderMismatch(collection: String, stored: String, configured: String)
  case foreignCollection(collection: String, location: String)
  case otherRepository(collection: String, location: String, owner: String, this: String, suggestion: String)
  case keepsMoving(collection: String, rounds: Int, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .embedderMismatch(collection, stored, configured):
      "Collection \(collection) was indexed with embedder \(stored), but the configured embedder is \(configured); vectors of two models are never mixed. Run `git rag sync --reindex` to rebuild it, or use --collection with another name."
    case let .foreignCollection(collection, location):
      "Collection \(collection) in \(location) has no git-rag metadata (made by another tool?). Use another --collection, or `git rag sync --reindex` to replace it."
    case let .otherRepository(collection, location, owner, this, suggestion):
      "Collection \(collection) in \(location) indexes another repository (\(owner)), not this one (\(this)); nothing was written. Use --collection with another name (e.g. --collection \(suggestion)), or set rag.collection."
    case let .keepsMoving(collection, rounds, reason):
      "Collection \(collection) kept changing under this sync (\(rounds) rounds; last: \(reason)); its last indexed commit is unchanged. Run `git rag sync` again once the other syncs have finished."
    }
  }
}

extension Array {
  func chunked(_ size: Int) -> [ArraySlice<Element>] {
    stride(from: 0, to: count, by: Swift.max(size, 1)).map { self[$0..<Swift.min($0 + size, count)] }
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
