import Foundation
import Git
import GitRAGCore
import Store

/// The index as it travels with the repository: `refs/rag/<name>` on a git remote holds one
/// `VectorPack` blob per source file blob (at `ab/cdef…`, the source blob's id split after two
/// digits) and a `manifest.json`. `push` publishes a collection there; `pull` fetches it, checks it
/// and feeds its vectors to the local embedding cache, so the next sync embeds only new chunks.
public struct IndexRef {
  /// The largest manifest and pack blob a reader accepts, and the most packs in one tree.
  public static let maxManifestBytes = 1 << 20
  public static let maxPackBytes = 64 << 20
  public static let maxPacks = 1_000_000
  /// Pushes tried before giving up when other pushes keep landing first.
  public static let maxPushAttempts = 5

  public let repository: Repository
  public let name: String
  public let transfer: CloneOptions

  public init(repository: Repository, name: String, transfer: CloneOptions) {
    self.repository = repository
    self.name = name
    self.transfer = transfer
  }

  /// `refs/rag/<name>`, locally and on the remote.
  public var reference: String { "refs/rag/\(name)" }
  /// Where a fetched ref waits until it has been checked.
  var incoming: String { "refs/rag-incoming/\(name)" }

  /// True when `name` is usable in a reference (and so as a collection name on the remote).
  public static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 200 && !name.hasPrefix(".") && !name.hasSuffix(".lock") && !name.contains("..")
      && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
  }

  // MARK: - Publishing

  /// What a push did.
  public struct PushSummary: Sendable, Codable {
    public var remote: String
    public var reference: String
    public var commit: String
    public var files: Int
    public var chunks: Int
    public var objectsSent: Int
    public var bytesSent: Int
    /// Pushes made: more than one when another push landed first and was merged.
    public var attempts: Int
    public var upToDate: Bool
  }

  /// Publishes the vectors of `collection` in `store` to `location`. With `replace`, a remote ref
  /// this clone has not seen is superseded, not merged (a single writer such as CI, whose shallow
  /// clone cannot tell which indexed commits are older).
  public func push(
    store: any VectorStore, collection: String, location: CloneLocation, filterVersion: String, replace: Bool = false
  ) async throws -> PushSummary {
    let (manifest, packs) = try await Self.snapshot(store: store, collection: collection, filterVersion: filterVersion)
    var files: [String: ObjectID] = [:]
    for (blob, pack) in packs { files[Self.packPath(blob)] = try repository.writeBlob(pack) }
    var tree = files
    tree["manifest.json"] = try repository.writeBlob(try manifest.encoded())
    let treeID = try repository.writeTree(tree)
    let parent = try repository.reference(reference)
    let message = "git-rag: vectors of \(collection) at \(manifest.commits[0])"
    var commit =
      try parent.flatMap { try treeOf($0) == treeID ? $0 : nil }
      ?? repository.writeCommit(tree: treeID, parents: parent.map { [$0] } ?? [], message: message)
    try repository.setReference(reference, to: commit, message: "git-rag push")

    var summary = PushSummary(
      remote: location.redacted, reference: reference, commit: commit.hex, files: manifest.files, chunks: manifest.chunks,
      objectsSent: 0, bytesSent: 0, attempts: 0, upToDate: false)
    while true {
      let remoteTip = try repository.remoteReferences(location, prefix: reference, options: transfer)[reference]
      if remoteTip == commit {
        summary.upToDate = summary.attempts == 0
        break
      }
      if let remoteTip, !repository.isAncestor(remoteTip, of: commit) {
        commit = try merge(remoteTip: remoteTip, into: commit, manifest: manifest, location: location, replace: replace)
        summary.commit = commit.hex
      }
      summary.attempts += 1
      let result = try repository.push(location, refspecs: ["\(reference):\(reference)"], options: transfer)
      summary.objectsSent += result.objects
      summary.bytesSent += result.bytes
      guard let reason = result.rejected[reference] else { break }
      // Another push landed between our look at the remote and ours: fetch, merge, try again.
      guard summary.attempts < Self.maxPushAttempts else {
        throw IndexRefError.pushRejected(reference: reference, remote: location.redacted, reason: reason)
      }
    }
    return summary
  }

  /// Fetches the remote's tip, checks it, and makes the commit to push over it: our tree on top of
  /// theirs when every commit they indexed is in our indexed commit's history (we supersede them),
  /// else a merge commit whose tree and manifest are the union of both (racing pushes of
  /// different branches lose nothing).
  private func merge(
    remoteTip: ObjectID, into local: ObjectID, manifest: IndexRefManifest, location: CloneLocation, replace: Bool
  ) throws -> ObjectID {
    try repository.fetch(location, refspecs: ["+\(reference):\(incoming)"], options: transfer)
    defer { try? repository.deleteReference(incoming) }
    guard let fetched = try repository.reference(incoming) else {
      throw IndexRefError.notOnRemote(reference: reference, remote: location.redacted, available: [])
    }
    if replace {
      let commit = try repository.writeCommit(
        tree: try repository.treeID(commit: local), parents: [fetched], message: "git-rag: vectors of \(manifest.commits[0])")
      try repository.setReference(reference, to: commit, message: "git-rag push: replace \(fetched.shortHex)")
      return commit
    }
    let theirs = try read(commit: fetched, remote: location.redacted)
    guard theirs.manifest.embedder == manifest.embedder, theirs.manifest.dimension == manifest.dimension else {
      throw IndexRefError.otherEmbedderOnRemote(
        reference: reference, remote: location.redacted, theirs: theirs.manifest.embedder, ours: manifest.embedder)
    }
    let ours = try read(commit: local, remote: "the local \(reference)")
    let superseded =
      ours.manifest.commits.first.flatMap(ObjectID.init(hex:)).map { mine in
        theirs.manifest.commits.allSatisfy { ObjectID(hex: $0).map { repository.isAncestor($0, of: mine) } ?? false }
      } ?? false
    let commit: ObjectID
    if superseded {
      commit = try repository.writeCommit(
        tree: try repository.treeID(commit: local), parents: [fetched], message: "git-rag: vectors of \(manifest.commits[0])")
    } else {
      for (source, blob) in theirs.packs {
        do {
          _ = try VectorPack.decode(try repository.blob(blob), expectedDimension: manifest.dimension)
        } catch let error as VectorPackError {
          throw IndexRefError.refused(
            reference: reference, remote: location.redacted, reason: "the pack of blob \(source.prefix(12)) is corrupt: \(error.reason)")
        }
      }
      let packs = theirs.packs.merging(ours.packs) { _, mine in mine }
      let chunks = try packs.values.reduce(0) { $0 + (try chunkCount(of: $1)) }
      let merged = ours.manifest.union(theirs.manifest, files: packs.count, chunks: chunks)
      var tree = Dictionary(uniqueKeysWithValues: packs.map { (Self.packPath($0.key), $0.value) })
      tree["manifest.json"] = try repository.writeBlob(try merged.encoded())
      commit = try repository.writeCommit(
        tree: try repository.writeTree(tree), parents: [local, fetched], message: "git-rag: merge vectors pushed concurrently")
    }
    try repository.setReference(reference, to: commit, message: "git-rag push: over \(fetched.shortHex)")
    return commit
  }

  private func treeOf(_ commit: ObjectID) throws -> ObjectID? {
    try? repository.treeID(commit: commit)
  }

  private func chunkCount(of blob: ObjectID) throws -> Int {
    let data = try repository.blob(blob)
    guard data.count >= VectorPack.headerSize else { return 0 }
    return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in (0..<4).reduce(0) { $0 | Int(raw[12 + $1]) << (8 * $1) } }
  }

  /// The manifest and packs (source blob id → encoded pack) of `collection`.
  static func snapshot(store: any VectorStore, collection: String, filterVersion: String) async throws -> (IndexRefManifest, [String: Data])
  {
    guard try await store.collectionExists(collection), let metadata = try await store.metadata(collection) else {
      throw IndexRefError.nothingToPublish(collection: collection, reason: "it does not exist; run git rag sync first")
    }
    guard let commit = metadata.lastIndexedCommit, !commit.isEmpty else {
      throw IndexRefError.nothingToPublish(collection: collection, reason: "no sync of a commit has finished; run git rag sync first")
    }
    guard metadata.dimension > 0 else {
      throw IndexRefError.nothingToPublish(collection: collection, reason: "it holds no vectors (keyword-only); sync it with an embedder")
    }
    let inventory = try await store.inventory(collection)
    var chunksByBlob: [String: [Int: (String, [Float])]] = [:]
    let paths = inventory.keys.sorted()
    for start in stride(from: 0, to: paths.count, by: 256) {
      for point in try await store.points(collection, filePaths: Array(paths[start..<min(start + 256, paths.count)])) {
        guard let vector = point.vector, vector.count == metadata.dimension, point.payload.chunkHash.utf8.count == 64 else { continue }
        guard inventory[point.payload.filePath] == point.payload.fileHash else { continue }
        chunksByBlob[point.payload.fileHash, default: [:]][point.payload.chunkIndex] = (point.payload.chunkHash, vector)
      }
    }
    var packs: [String: Data] = [:]
    var chunks = 0
    for (blob, byIndex) in chunksByBlob where ObjectID(hex: blob) != nil {
      let ordered = byIndex.keys.sorted().map { byIndex[$0]! }
      packs[blob] = VectorPack(dimension: metadata.dimension, chunks: ordered.map { (hash: $0.0, vector: $0.1) }).encoded()
      chunks += ordered.count
    }
    let manifest = IndexRefManifest(
      embedder: metadata.embedder, dimension: metadata.dimension, commit: commit, chunker: metadata.chunkerVersion,
      filter: filterVersion, files: packs.count, chunks: chunks)
    return (manifest, packs)
  }

  static func packPath(_ blob: String) -> String { "\(blob.prefix(2))/\(blob.dropFirst(2))" }

  // MARK: - Reading

  /// A ref's manifest and packs (source blob id → pack blob id), its shape checked.
  struct Contents {
    var manifest: IndexRefManifest
    var packs: [String: ObjectID]
  }

  /// Reads and checks the shape of the ref commit `commit`: a manifest of the current format, and
  /// only pack blobs of bounded size at `ab/cdef…` paths. Packs themselves are checked on decode.
  func read(commit: ObjectID, remote: String) throws -> Contents {
    func refuse(_ reason: String) -> IndexRefError { .refused(reference: reference, remote: remote, reason: reason) }
    let entries: [TreeEntry]
    do { entries = try repository.treeEntries(commit: commit) } catch {
      throw refuse("it is not a readable commit (\(error.localizedDescription))")
    }
    guard entries.count <= Self.maxPacks + 1 else { throw refuse("it holds \(entries.count) files, more than \(Self.maxPacks)") }
    guard let manifestEntry = entries.first(where: { $0.path == "manifest.json" }), manifestEntry.mode == .blob else {
      throw refuse("it has no manifest.json")
    }
    let manifestSize = try repository.blobSize(manifestEntry.id)
    guard manifestSize <= Self.maxManifestBytes else { throw refuse("its manifest.json is \(manifestSize) bytes") }
    let manifest: IndexRefManifest
    do {
      manifest = try JSONDecoder().decode(IndexRefManifest.self, from: try repository.blob(manifestEntry.id))
    } catch {
      throw refuse("its manifest.json cannot be read as a manifest")
    }
    guard manifest.format == IndexRefManifest.currentFormat else {
      throw IndexRefError.unsupportedFormat(reference: reference, remote: remote, format: manifest.format)
    }
    guard manifest.dimension > 0, manifest.dimension <= VectorPack.maxDimension else {
      throw refuse("its manifest gives dimension \(manifest.dimension)")
    }
    var packs: [String: ObjectID] = [:]
    for entry in entries where entry.path != "manifest.json" {
      let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
      guard entry.mode == .blob, parts.count == 2, parts[0].count == 2, let source = ObjectID(hex: String(parts[0] + parts[1])) else {
        throw refuse("it holds an unexpected entry \(entry.path.debugDescription)")
      }
      let size = try repository.blobSize(entry.id)
      guard size <= Self.maxPackBytes else { throw refuse("the pack \(entry.path) is \(size) bytes, more than \(Self.maxPackBytes)") }
      packs[source.hex] = entry.id
    }
    guard packs.count == manifest.files else {
      throw refuse("its manifest lists \(manifest.files) files but the tree holds \(packs.count)")
    }
    return Contents(manifest: manifest, packs: packs)
  }

  // MARK: - Pulling

  /// What a pull did.
  public struct PullSummary: Sendable, Codable {
    public var remote: String
    public var reference: String
    public var commit: String
    public var indexedCommits: [String]
    public var files: Int
    public var chunks: Int
    /// Vectors written to the cache (chunks shared by several files count once).
    public var vectorsImported: Int
    /// True when this ref had been pulled before: nothing was imported again.
    public var upToDate = false
  }

  /// The ref names (`refs/rag/<name>` without the prefix) on `location`.
  public static func names(repository: Repository, location: CloneLocation, transfer: CloneOptions) throws -> [String] {
    try repository.remoteReferences(location, prefix: "refs/rag/", options: transfer).keys.map { String($0.dropFirst("refs/rag/".count)) }
      .sorted()
  }

  /// Fetches `refs/rag/<name>` from `location`, checks it against the embedder fingerprint
  /// `fingerprint` gives (told the manifest first, so a remote embedder can learn its dimension
  /// without a request), and writes its vectors into `cache`. Any failed check refuses the whole
  /// ref: nothing is imported.
  public func pull(
    location: CloneLocation, cache: EmbeddingCache, fingerprint: (IndexRefManifest) async throws -> String
  ) async throws -> PullSummary {
    let remote = location.redacted
    try repository.fetch(location, refspecs: ["+\(reference):\(incoming)"], options: transfer)
    defer { try? repository.deleteReference(incoming) }
    guard let fetched = try repository.reference(incoming) else {
      throw IndexRefError.notOnRemote(reference: reference, remote: remote, available: [])
    }
    let contents = try read(commit: fetched, remote: remote)
    // Pulled and imported before (a hook pulling after every commit): nothing new to import.
    if try repository.reference(reference) == fetched {
      return PullSummary(
        remote: remote, reference: reference, commit: fetched.hex, indexedCommits: contents.manifest.commits,
        files: contents.packs.count, chunks: contents.manifest.chunks, vectorsImported: 0, upToDate: true)
    }
    let fingerprint = try await fingerprint(contents.manifest)
    guard contents.manifest.embedder == fingerprint else {
      throw IndexRefError.embedderMismatch(
        reference: reference, remote: remote, published: contents.manifest.embedder, configured: fingerprint)
    }
    var vectors: [String: [Float]] = [:]
    var chunks = 0
    for (source, blob) in contents.packs {
      do {
        let pack = try VectorPack.decode(try repository.blob(blob), expectedDimension: contents.manifest.dimension)
        chunks += pack.chunks.count
        for chunk in pack.chunks { vectors[chunk.hash] = chunk.vector }
      } catch let error as VectorPackError {
        throw IndexRefError.refused(
          reference: reference, remote: remote, reason: "the pack of blob \(source.prefix(12)) is corrupt: \(error.reason)")
      }
    }
    guard chunks == contents.manifest.chunks else {
      throw IndexRefError.refused(
        reference: reference, remote: remote, reason: "its manifest lists \(contents.manifest.chunks) chunks but the packs hold \(chunks)")
    }
    try cache.store(fingerprint: fingerprint, vectors: vectors)
    try repository.setReference(reference, to: fetched, message: "git-rag pull")
    return PullSummary(
      remote: remote, reference: reference, commit: fetched.hex, indexedCommits: contents.manifest.commits,
      files: contents.packs.count, chunks: chunks, vectorsImported: vectors.count)
  }

  /// The manifest of the local `refs/rag/<name>` (the last one pushed or pulled), if any.
  public func localManifest() -> IndexRefManifest? {
    guard let commit = try? repository.reference(reference) else { return nil }
    return try? read(commit: commit, remote: "local").manifest
  }
}

/// Why a push or pull of `refs/rag/<name>` failed; one line each, with what to do.
public enum IndexRefError: UserFacingError, Equatable {
  case nothingToPublish(collection: String, reason: String)
  case notOnRemote(reference: String, remote: String, available: [String])
  case refused(reference: String, remote: String, reason: String)
  case unsupportedFormat(reference: String, remote: String, format: Int)
  case embedderMismatch(reference: String, remote: String, published: String, configured: String)
  case otherEmbedderOnRemote(reference: String, remote: String, theirs: String, ours: String)
  case pushRejected(reference: String, remote: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .nothingToPublish(collection, reason):
      "Nothing to push: collection \(collection) \(reason)."
    case let .notOnRemote(reference, remote, available):
      "\(remote) has no \(reference)\(available.isEmpty ? "" : " (it has: \(available.joined(separator: ", ")))"). Push one with git rag push, or pass --name."
    case let .refused(reference, remote, reason):
      "Refused \(reference) from \(remote): \(reason). Nothing was imported; ask whoever pushed it to run git rag push again."
    case let .unsupportedFormat(reference, remote, format):
      "\(reference) on \(remote) has format \(format); this git-rag reads format \(IndexRefManifest.currentFormat). Nothing was imported; upgrade git-rag or push again with this version."
    case let .embedderMismatch(reference, remote, published, configured):
      "\(reference) on \(remote) holds vectors of embedder \(published), but this repository uses \(configured). Nothing was imported; configure the same embedder (rag.embedder, rag.model) or pull another --name."
    case let .otherEmbedderOnRemote(reference, remote, theirs, ours):
      "\(reference) on \(remote) holds vectors of embedder \(theirs), this collection was made by \(ours). Push under another name (--name) instead of mixing them."
    case let .pushRejected(reference, remote, reason):
      "\(remote) kept refusing \(reference) (\(reason)) after \(IndexRef.maxPushAttempts) attempts. Try git rag push again."
    }
  }
}
