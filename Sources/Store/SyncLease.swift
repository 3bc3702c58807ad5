import Foundation
import GitRAGCore

/// A time-limited claim on a collection by one sync, kept in the collection itself, so that syncs
/// on several machines sharing one Qdrant collection do not do the same work at once. The lease
/// is advisory: what keeps the index correct is the pending-target bookkeeping of the sync
/// engine (see docs/shared-collections.md); the lease only makes overlapping writers rare.
public struct SyncLease: Sendable, Hashable, Codable {
  /// Random per sync: what a conditional write compares.
  public var id: String
  /// The host the holder runs on.
  public var host: String
  /// The holder's process id on `host`.
  public var pid: Int32
  /// The holder's process-id namespace (Linux; containers sharing a host name have their own),
  /// so that its pid is looked up only where it means the same process.
  public var pidNamespace: String
  /// The commit the holder syncs towards (empty outside git).
  public var target: String
  /// When the lease lapses unless renewed, in seconds since 1970 (UTC).
  public var expiresAt: Int

  public init(id: String, host: String, pid: Int32, pidNamespace: String = SyncLease.currentPIDNamespace, target: String, expiresAt: Int) {
    self.id = id
    self.host = host
    self.pid = pid
    self.pidNamespace = pidNamespace
    self.target = target
    self.expiresAt = expiresAt
  }

  /// A new lease for this process.
  public static func mine(target: String, seconds: Int) -> SyncLease {
    SyncLease(
      id: UUID().uuidString.lowercased(), host: ProcessInfo.processInfo.hostName,
      pid: ProcessInfo.processInfo.processIdentifier, target: target, expiresAt: now() + seconds)
  }

  /// `host pid N`, as `git rag status` shows the holder.
  public var owner: String { "\(host) pid \(pid)" }

  /// True once it has lapsed, or when its holder ran on this host (and in this pid namespace) and
  /// is gone: killed syncs need not be waited out there.
  public func isStale(now: Int = SyncLease.now()) -> Bool {
    if expiresAt <= now { return true }
    guard host == ProcessInfo.processInfo.hostName, pidNamespace == Self.currentPIDNamespace, pid > 0 else { return false }
    return kill(pid, 0) != 0 && errno == ESRCH
  }

  /// `pid:[4026531836]` on Linux (the target of /proc/self/ns/pid); empty where there is none.
  public static let currentPIDNamespace: String =
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""

  public static func now() -> Int { Int(Date().timeIntervalSince1970) }
}

/// A store whose collections can hold a `SyncLease` (Qdrant; SQLite collections are guarded by a
/// file lock next to them instead).
public protocol SyncLeasing: VectorStore {
  /// The lease recorded in the collection, live or not; nil when there is none.
  func lease(_ collection: String) async throws -> SyncLease?
  /// Writes `lease` in one conditional write that succeeds only when no lease is recorded, when
  /// the recorded one has the same id (a renewal) or `replacing`'s id (a stale one seen before), or
  /// when the recorded one has expired; then returns the lease in force. The caller holds it when
  /// the returned id is its own.
  func tryLease(_ collection: String, _ lease: SyncLease, replacing stale: String?) async throws -> SyncLease?
  /// Removes the lease if it is still `id`'s.
  func releaseLease(_ collection: String, id: String) async throws
}
