import Foundation
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

/// One sync per collection at a time: a lock file holding the owner's PID next to the store.
///
/// A second sync that finds the lock held leaves a request file instead of waiting; the running
/// sync sees it when it finishes and goes round once more, so a burst of hook calls ends with
/// at most one running sync plus one pending round. A lock whose PID no longer runs is stale and
/// is taken over.
public final class SyncLock: Sendable {
  public let lockURL: URL
  public let requestURL: URL

  public init(directory: URL, collection: String) {
    lockURL = directory.appendingPathComponent("\(collection).lock")
    requestURL = directory.appendingPathComponent("\(collection).pending")
  }

  public enum Acquisition: Sendable, Equatable {
    case acquired
    /// Another process holds the lock; a request for one more round was recorded.
    case heldBy(pid: Int32)
  }

  /// Takes the lock, or records a request for the holder to go round once more.
  public func acquire() throws -> Acquisition {
    try FileManager.default.createDirectory(at: lockURL.deletingLastPathComponent(), withIntermediateDirectories: true)
    for _ in 0..<3 {
      let fd = open(lockURL.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
      if fd >= 0 {
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        return .acquired
      }
      guard errno == EEXIST else {
        throw GitRAGError("Cannot create the sync lock \(lockURL.path) (\(String(cString: strerror(errno)))). Check the folder's permissions.")
      }
      if let holder = holderPID(), holder != getpid(), processIsAlive(holder) {
        _ = FileManager.default.createFile(atPath: requestURL.path, contents: Data("\(getpid())\n".utf8))
        return .heldBy(pid: holder)
      }
      // Stale: the holder died without unlocking (SIGKILL, power loss). Take it over.
      try? FileManager.default.removeItem(at: lockURL)
    }
    throw GitRAGError("Cannot take the sync lock \(lockURL.path). Remove it if no git-rag sync is running.")
  }

  /// True (and the request cleared) when another sync asked for one more round while we held the lock.
  public func takeRequest() -> Bool {
    guard FileManager.default.fileExists(atPath: requestURL.path) else { return false }
    try? FileManager.default.removeItem(at: requestURL)
    return true
  }

  public func release() {
    if holderPID() == getpid() { try? FileManager.default.removeItem(at: lockURL) }
  }

  /// PID written in the lock file, if any.
  public func holderPID() -> Int32? {
    guard let text = try? String(contentsOf: lockURL, encoding: .utf8) else { return nil }
    return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  private func processIsAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
  }
}
