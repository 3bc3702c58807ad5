import Foundation
import GitRAGTestSupport
import Indexing
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct SyncLockTests {
  let folder: TemporaryDirectory
  init() throws { folder = try TemporaryDirectory(prefix: "git-rag-lock") }

  @Test func aLiveButUnrelatedPidInTheFileDoesNotBlock() throws {
    let lock = SyncLock(directory: folder.url, collection: "c")
    // What the PID-file lock trusted: a live process (here: our parent) named in the file.
    try Data("\(getppid())\n".utf8).write(to: lock.lockURL)
    #expect(lock.holder() == nil)
    #expect(try lock.acquire() == .acquired)
    #expect(lock.holder()?.pid == getpid())
    lock.release()
    #expect(eventually { lock.holder() == nil })
  }

  @Test func aHeldLockRecordsARequestAndNamesItsHolder() throws {
    let first = SyncLock(directory: folder.url, collection: "c")
    let second = SyncLock(directory: folder.url, collection: "c")
    #expect(try first.acquire() == .acquired)
    #expect(try second.acquire() == .heldBy(pid: getpid()))
    #expect(first.takeRequest())
    #expect(!first.takeRequest())
    first.release()
    #expect(try second.acquire() == .acquired)
    second.release()
  }

  @Test func aRequestLeftJustBeforeReleaseIsServed() throws {
    let holder = SyncLock(directory: folder.url, collection: "c")
    let late = SyncLock(directory: folder.url, collection: "c")
    #expect(try holder.acquire() == .acquired)
    #expect(!holder.takeRequest())  // the holder's last look: nothing asked for
    #expect(try late.acquire() == .heldBy(pid: getpid()))  // a hook fires now
    #expect(holder.releaseUnlessRequested())  // so the holder takes the lock back for one more round
    #expect(holder.holder()?.pid == getpid())
    #expect(!holder.releaseUnlessRequested())
    // Free once no process has the lock's file open: a child another test spawns at this moment
    // shares the descriptor until its exec closes it.
    #expect(eventually { holder.holder() == nil })
  }

  @Test func theKernelReleasesTheLockOfAKilledHolder() throws {
    let lock = SyncLock(directory: folder.url, collection: "c")
    let holder = try SpawnedProcess(
      "python3",
      [
        "-c",
        "import fcntl, os, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nf.write(f'{os.getpid()}\\n'); f.flush()\nprint('locked', flush=True)\ntime.sleep(120)",
        lock.lockURL.path,
      ])
    #expect(firstLine(of: holder.stdout) == "locked")
    #expect(try lock.acquire() == .heldBy(pid: holder.pid))
    #expect(lock.holder()?.pid == holder.pid)
    holder.signal(SIGKILL)
    _ = holder.wait()
    #expect(lock.holder() == nil)
    #expect(try lock.acquire() == .acquired)
    lock.release()
  }
}

/// Reads up to the first newline: the child's readiness signal.
func firstLine(of handle: FileHandle) -> String {
  var bytes = Data()
  while true {
    let byte = handle.readData(ofLength: 1)
    if byte.isEmpty || byte == Data([0x0A]) { break }
    bytes += byte
  }
  return String(decoding: bytes, as: UTF8.self)
}
