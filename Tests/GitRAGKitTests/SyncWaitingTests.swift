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
    // Another process holds the lock (flock(1) takes it, then runs cat until its stdin closes).
    try FileManager.default.createDirectory(at: lock.lockURL.deletingLastPathComponent(), withIntermediateDirectories: true)
    let holder = try SpawnedProcess("/usr/bin/flock", [lock.lockURL.path, "/bin/cat"])
    #expect(try await eventually(within: .seconds(30)) { lock.holder() != nil })
    #expect(try await session.status(pending: false).syncRunning)

    let sync = Task { try await session.syncWaiting() }
    // The signal that it found the lock held: its request for one more round.
    #expect(try await eventually(within: .seconds(30)) { FileManager.default.fileExists(atPath: lock.requestURL.path) })
    #expect(try await f.session().status(pending: false).lastIndexedCommit == nil)

    holder.send(nil)
    _ = holder.wait()
    let report = try await sync.value
    #expect(report.mode == .full && report.filesAdded >= 3, "\(report)")
    #expect(try await f.session().status(pending: false).lastIndexedCommit == f.repo.head)
    // The lock file stays (removing it would let a waiter lock a file no one else sees); nobody holds it.
    #expect(lock.holder() == nil)
  }
}
