import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Which deadline ended a clone.
public enum CloneDeadline: Sendable, Equatable {
  /// The connection did not open within this many seconds.
  case connect(seconds: TimeInterval)
  /// Nothing arrived for this many seconds.
  case idle(seconds: TimeInterval)
}

/// Connect and idle deadlines for a libgit2 clone, which has none of its own (libgit2 1.5: a
/// server that accepts the connection and never answers holds `git_clone` forever, over ssh,
/// http and https alike).
///
/// A thread looks at the TCP sockets the process opened since the clone began, twice a second:
/// one still connecting after `connect` seconds, or one that has received nothing for `idle`
/// seconds, ends the clone. The watchdog shuts those sockets down, so libgit2's blocked read
/// returns an error, and the clone reports the deadline instead of libgit2's message. Sockets
/// that existed before (an embedding API's, an ssh-agent's) are never touched.
final class CloneWatchdog: @unchecked Sendable {
  // @unchecked: `expired` and `running` are guarded by `lock`; the rest is immutable.
  typealias Deadline = CloneDeadline

  private let connect: TimeInterval
  private let idle: TimeInterval
  private let baseline: Set<String>
  private let condition = NSCondition()
  private var running = true
  private var stopped = false
  private var expiredDeadline: Deadline?
  private var lastProgress = Date.distantPast

  /// Starts watching; call `stop()` when the clone returns.
  init(connect: TimeInterval, idle: TimeInterval) {
    self.connect = connect
    self.idle = idle
    baseline = Set(Self.sockets().map(\.inode))
    let thread = Thread { [self] in watch() }
    thread.name = "git-rag clone watchdog"
    thread.start()
  }

  /// The deadline that ended the clone, if one did.
  var expired: Deadline? { condition.withLock { expiredDeadline } }

  /// libgit2 reported progress (objects received, deltas resolved): the clone is working, even
  /// while its socket is quiet (resolving deltas after the download).
  func progressed() { condition.withLock { lastProgress = Date() } }

  /// Ends the watch and waits for the thread to finish.
  func stop() {
    condition.lock()
    running = false
    condition.broadcast()
    while !stopped { condition.wait() }
    condition.unlock()
  }

  private func watch() {
    var firstSeen: [String: Date] = [:]
    condition.lock()
    while running {
      let sinceProgress = Date().timeIntervalSince(lastProgress)
      condition.unlock()
      let now = Date()
      for socket in Self.sockets() where !baseline.contains(socket.inode) {
        guard let state = Self.tcpState(socket.fd) else { continue }
        let seen = firstSeen[socket.inode] ?? now
        firstSeen[socket.inode] = seen
        let age = now.timeIntervalSince(seen)
        var deadline: Deadline?
        if state.connecting, age > connect {
          deadline = .connect(seconds: connect)
        } else if !state.connecting, min(age, state.secondsSinceData, sinceProgress) > idle {
          deadline = .idle(seconds: idle)
        }
        if let deadline {
          condition.withLock { if expiredDeadline == nil { expiredDeadline = deadline } }
          shutdown(socket.fd, Int32(SHUT_RDWR))
        }
      }
      condition.lock()
      if running { _ = condition.wait(until: Date().addingTimeInterval(0.5)) }
    }
    stopped = true
    condition.broadcast()
    condition.unlock()
  }

  /// The process's open sockets: descriptor and the kernel's `socket:[inode]` name.
  private static func sockets() -> [(fd: Int32, inode: String)] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
    return names.compactMap { name in
      guard let fd = Int32(name),
        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
        target.hasPrefix("socket:")
      else { return nil }
      return (fd, target)
    }
  }

  /// Whether a TCP socket is still connecting, and how long since it last received data; nil for
  /// anything that is not a TCP socket.
  private static func tcpState(_ fd: Int32) -> (connecting: Bool, secondsSinceData: TimeInterval)? {
    #if !os(Linux)
      return nil  // TCP_INFO and /proc/self/fd are Linux's; elsewhere the clone has no deadline.
    #else
      var info = tcp_info()
      var length = socklen_t(MemoryLayout<tcp_info>.size)
      guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return nil }
      // TCP_SYN_SENT = 2; TCP_CLOSE = 7 (a socket not yet connecting, or already closed).
      if info.tcpi_state == 7 { return nil }
      return (info.tcpi_state == 2, TimeInterval(info.tcpi_last_data_recv) / 1000)
    #endif
  }
}
