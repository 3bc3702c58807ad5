import Foundation

/// Polls `condition` every `interval` seconds until it holds or `timeout` seconds pass, and
/// returns whether it held. Tests wait this way for a signal from another process (a request
/// count, a file, a lock holder, a log line), never with a fixed sleep.
public func eventually(timeout: Double = 10, interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if try condition() { return true }
    Thread.sleep(forTimeInterval: interval)
  }
  return try condition()
}

/// `eventually` for async code: the task sleeps between checks, not the thread.
public func eventually(
  within timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
  let deadline = ContinuousClock.now + timeout
  while ContinuousClock.now < deadline {
    if try await condition() { return true }
    try await Task.sleep(for: interval)
  }
  return try await condition()
}
