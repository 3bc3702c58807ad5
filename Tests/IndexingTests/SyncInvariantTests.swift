import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// The sync invariant (docs/architecture.md, "A sync") as a property: after any sequence of commits, renames,
/// deletions, branch switches, rebases and interrupted syncs, an incremental sync leaves the
/// store with exactly the chunks a fresh full index of HEAD produces.
@Suite(.serialized) struct SyncInvariantTests {
  static var caseCount: Int {
    Int(ProcessInfo.processInfo.environment["GIT_RAG_PROPERTY_CASES"] ?? "") ?? 200
  }

  @Test func incrementalSyncEqualsFullIndexOverRandomHistories() async throws {
    let server = try await EmbeddingServer.start()
    let embedder = server.embedder()
    let seedBase = UInt64(ProcessInfo.processInfo.environment["GIT_RAG_PROPERTY_SEED"] ?? "") ?? 20_261_125
    for caseIndex in 0..<Self.caseCount {
      let seed = seedBase &+ UInt64(caseIndex)
      try await checkSyncInvariant(seed: seed, embedder: embedder) { SQLiteStore(directory: $0) }
    }
  }
}
