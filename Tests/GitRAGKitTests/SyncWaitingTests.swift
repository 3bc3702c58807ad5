import Foundation
import GitRAGCore
import GitRAGKit
import GitRAGTestSupport
import Indexing
import Testing

@Suite struct SyncWaitingTests {
  /// The MCP `sync` waits for a sync another process holds the lock for (a hook's), asking it to
  /// go round once more, instead of racing it; it runs once that process is gone.
  @Test func waitsForTheLockHolder() async throws {
    let f = try WorkingTreeFixture()
    let session = try f.session()
    let lock = SyncLock(directory: session.context.storeDirectory, collection: session.collection)
    // Another process holds the lock: a child that lives until its stdin closes.
    let holder = try SpawnedProcess("/bin/cat", [])
    try FileManager.default.createDirectory(at: lock.lockURL.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data("\(holder.pid)\n".utf8).write(to: lock.lockURL)
    #expect(try await session.status(pending: false).syncRunning)

    let sync = Task { try await session.syncWaiting() }
    // The signal that it found the lock held: its request for one more round.
    while !FileManager.default.fileExists(atPath: lock.requestURL.path) { try await Task.sleep(for: .milliseconds(10)) }
    #expect(try await f.session().status(pending: false).lastIndexedCommit == nil)

    holder.send(nil)
    _ = holder.wait()
    let report = try await sync.value
    #expect(report.mode == .full && report.filesAdded >= 3, "\(report)")
    #expect(try await f.session().status(pending: false).lastIndexedCommit == f.repo.head)
    #expect(!FileManager.default.fileExists(atPath: lock.lockURL.path))
  }
}
