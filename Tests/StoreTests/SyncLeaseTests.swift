import Foundation
import GitRAGTestSupport
import Store
import Testing

@Suite struct SyncLeaseTests {
  @Test func aLeaseIsStaleWhenItLapsedOrItsLocalHolderIsGone() throws {
    let host = ProcessInfo.processInfo.hostName
    let now = SyncLease.now()
    let live = SyncLease(id: "a", host: host, pid: ProcessInfo.processInfo.processIdentifier, target: "", expiresAt: now + 60)
    #expect(!live.isStale(now: now))
    #expect(live.isStale(now: now + 60))

    // A process that has exited: its lease need not be waited out.
    let child = try SpawnedProcess("true", [])
    child.send(nil)
    _ = child.wait()
    var dead = live
    dead.pid = child.pid
    #expect(dead.isStale(now: now))
    // The same pid elsewhere (another host, or another container's pid namespace) says nothing.
    var elsewhere = dead
    elsewhere.host = host + "-other"
    #expect(!elsewhere.isStale(now: now))
    var otherNamespace = dead
    otherNamespace.pidNamespace = "pid:[1]"
    #expect(SyncLease.currentPIDNamespace.isEmpty || !otherNamespace.isStale(now: now))
  }
}
