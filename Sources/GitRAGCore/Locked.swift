import Foundation

/// A value guarded by a lock: the one lock type of the package. (`Mutex` from Synchronization
/// needs macOS 15; the package targets 14.) Actors stay for state with async work.
public final class Locked<Value: Sendable>: @unchecked Sendable {
  // @unchecked: `value` is only read or written inside `lock`.
  private let lock = NSLock()
  private var value: Value

  public init(_ value: Value) { self.value = value }

  public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
