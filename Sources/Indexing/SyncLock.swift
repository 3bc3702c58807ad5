import Foundation
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

/// One sync per collection at a time: an advisory lock (`flock`) on a lock file next to the store.
///
/// The kernel releases the lock when its holder's descriptor closes, so a sync that dies (SIGKILL,
/// power loss) never leaves a stale lock behind, and a reused PID cannot block anyone: the PID
/// written in the file only names the holder for messages and `git rag status`.
///
/// A second sync that finds the lock held leaves a request file instead of waiting; the running
/// sync sees it when it finishes and goes round once more, so a burst of hook calls ends with
/// at most one running sync plus one pending round.
public final class SyncLock: @unchecked Sendable {
  // @unchecked: `descriptor` is written only by acquire/release, which one task calls in turn.
  public let lockURL: URL
  public let requestURL: URL
  private var descriptor: Int32 = -1

  public init(directory: URL, collection: String) {
    lockURL = directory.appendingPathComponent("\(collection).lock")
    requestURL = directory.appendingPathComponent("\(collection).pending")
  }

  deinit { release() }

  public enum Acquisition: Sendable, Equatable {
    case acquired
    /// Another process holds the lock; a request for one more round was recorded.
    case heldBy(pid: Int32)
  }

  /// Who holds a collection's lock, as the holder wrote it.
  public struct Holder: Sendable, Equatable, Codable {
    public var pid: Int32
    public var startedAt: String
  }

  /// Takes the lock, or records a request for the holder to go round once more.
  public func acquire() throws -> Acquisition {
    try StoreFolder.create(lockURL.deletingLastPathComponent())
    let fd = open(lockURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw GitRAGError("Cannot open the sync lock \(lockURL.path) (\(String(cString: strerror(errno)))). Check the folder's permissions.")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let reason = errno
      close(fd)
      guard reason == EWOULDBLOCK else {
        throw GitRAGError("Cannot lock \(lockURL.path) (\(String(cString: strerror(reason)))). Check the folder's permissions.")
      }
      _ = FileManager.default.createFile(atPath: requestURL.path, contents: Data("\(getpid())\n".utf8))
      return .heldBy(pid: holder()?.pid ?? 0)
    }
    let record = "\(getpid())\n\(Timestamp.now())\n"
    _ = ftruncate(fd, 0)
    _ = record.withCString { pwrite(fd, $0, strlen($0), 0) }
    descriptor = fd
    return .acquired
  }

  /// True (and the request cleared) when another sync asked for one more round while we held the lock.
  public func takeRequest() -> Bool {
    guard FileManager.default.fileExists(atPath: requestURL.path) else { return false }
    try? FileManager.default.removeItem(at: requestURL)
    return true
  }

  /// Gives the lock up, then takes it back if a request arrived meanwhile: true when the caller
  /// holds the lock again and owes one more round.
  ///
  /// Closes the window between the holder's last `takeRequest()` and its release, in which a
  /// sync that found the lock held would leave a request nobody serves.
  public func releaseUnlessRequested() -> Bool {
    release()
    guard FileManager.default.fileExists(atPath: requestURL.path), (try? acquire()) == .acquired else { return false }
    _ = takeRequest()
    return true
  }

  /// Gives the lock up. The file stays: removing it would let a waiter lock a file no one else sees.
  public func release() {
    guard descriptor >= 0 else { return }
    _ = ftruncate(descriptor, 0)
    close(descriptor)
    descriptor = -1
  }

  /// The running sync's PID and start time, or nil when no process holds the lock.
  public func holder() -> Holder? {
    let fd = open(lockURL.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 {
      flock(fd, LOCK_UN)
      return nil
    }
    let text = (try? String(contentsOf: lockURL, encoding: .utf8)) ?? ""
    let lines = text.split(separator: "\n")
    return Holder(pid: lines.first.flatMap { Int32($0) } ?? 0, startedAt: lines.dropFirst().first.map(String.init) ?? "")
  }
}
