import ArgumentParser
import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Indexing
import Store

struct StatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show the index: store, collection, embedder, counts, last indexed commit, and what a sync would do."
  )

  @Flag(help: "Print as JSON.")
  var json = false
  @OptionGroup var global: GlobalOptions

  @Flag(help: "Check the whole store (every page, index and row) instead of the quick check.")
  var check = false

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let status = try await IndexSession(context: context).status(thorough: check)
    let collection = status.collection, exists = status.exists, head = status.head.flatMap(ObjectID.init(hex:))
    let pending = status.pendingSync
    if json {
      print(try JSONOutput.encode(Versioned(status)))
      return
    }
    print("store:       \(status.store)")
    let create =
      context.repository == nil
      ? "outside a repository: index a folder with `git rag sync --dir PATH` or a remote with `git rag upload repo URL`"
      : "run `git rag sync`"
    print("collection:  \(collection)\(exists ? "" : " (not created yet: \(create))")")
    if let embedder = status.embedder {
      print("embedder:    \(embedder)")
      if embedder.hasPrefix("local:") { print("model runs:  \(LocalEmbedder.runtimeDescription())") }
      print("chunks:      \(status.chunks ?? 0) in \(status.files ?? 0) files")
      print(
        "indexed at:  \(status.lastIndexedCommit.map { String($0.prefix(12)) } ?? "nothing yet")\(status.lastIndexedAt.map { " (\($0))" } ?? "")"
      )
      print(
        "source:      \(status.source ?? "")\(status.rootCommits?.first.map { " (root commit \($0.prefix(12)))" } ?? "")"
          + (status.upload == true ? ", an upload, not this repository's HEAD" : ""))
      for target in Set((status.unfinishedSyncs ?? [:]).values).sorted() {
        print(
          "unfinished:  a sync towards \(target.isEmpty ? "the working folder" : String(target.prefix(12))) (the next sync revisits what it wrote)"
        )
      }
    }
    if let lease = status.lease {
      let state = lease.isStale() ? "lapsed" : "until \(Timestamp.string(secondsSince1970: lease.expiresAt))"
      print("lease:       \(lease.owner), syncing towards \(lease.target.prefix(12)), \(state)")
    }
    if let head, status.upload != true {
      let branch = status.headBranch.map { "on \($0)" } ?? "detached"
      print("HEAD:        \(head.hex.prefix(12)) (\(branch))\(status.dirty ? " with uncommitted changes" : "")")
    }
    if let relation = status.relation { print("index:       \(relation)") }
    let tree = status.workingTree
    if !(tree.modified.isEmpty && tree.added.isEmpty && tree.deleted.isEmpty) {
      print(
        "working tree: \(tree.modified.count) modified, \(tree.added.count) added, \(tree.deleted.count) deleted (searched unless --committed)"
      )
    }
    if let running = status.syncHolder {
      print(
        "running:     a sync (pid \(running.pid == 0 ? "unknown" : String(running.pid))\(running.startedAt.isEmpty ? "" : ", since \(running.startedAt)"))"
      )
    }
    if let pending {
      if pending.mode == .upToDate {
        print("sync would:  nothing (up to date)")
      } else {
        print(
          "sync would:  \(pending.mode.rawValue): \(pending.filesAdded) added, \(pending.filesModified) modified, \(pending.filesDeleted) deleted, \(pending.filesRenamed) renamed"
        )
      }
    }
  }
}
