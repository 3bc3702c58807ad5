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
    var dirty: Bool
    var pendingSync: SyncReport?
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
    if let repository, let head, let last = metadata?.lastIndexedCommit.flatMap(ObjectID.init(hex:)), repository.commitExists(last) {
      behind = try? repository.aheadBehind(local: last, upstream: head).behind
    }
    var pending: SyncReport?
    if let repository, head != nil {
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
      commitsBehind: behind, dirty: repository.flatMap { try? $0.isDirty() } ?? false, pendingSync: pending)
    if json {
      print(try JSONOutput.encode(status))
      return
    }
    print("store:       \(status.store)")
    print("collection:  \(collection)\(exists ? "" : " (not created yet: run `git rag sync`)")")
    if let metadata {
      print("embedder:    \(metadata.embedder)")
      if metadata.embedder.hasPrefix("local:") { print("model runs:  \(LocalEmbedder.runtimeDescription())") }
      print("chunks:      \(info?.points ?? 0) in \(info?.files ?? 0) files")
      print("indexed at:  \(metadata.lastIndexedCommit.map { String($0.prefix(12)) } ?? "nothing yet")\(metadata.lastIndexedAt.map { " (\($0))" } ?? "")")
    }
    if let head { print("HEAD:        \(head.hex.prefix(12))\(status.dirty ? " (uncommitted changes)" : "")") }
    if let behind { print("behind:      \(behind) commit\(behind == 1 ? "" : "s")") }
    if let pending {
      if pending.mode == .upToDate {
        print("sync would:  nothing (up to date)")
      } else {
        print("sync would:  \(pending.mode.rawValue): \(pending.filesAdded) added, \(pending.filesModified) modified, \(pending.filesDeleted) deleted, \(pending.filesRenamed) renamed")
      }
    }
  }
}
