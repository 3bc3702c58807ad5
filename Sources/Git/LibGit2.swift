internal import CLibGit2
import Foundation

// A global `let` is initialised lazily, exactly once, thread-safely.
private let libgit2Initialized: Int32 = git_libgit2_init()

/// Initialises libgit2 on first use; every entry point calls this before touching the library.
@inline(__always)
func ensureLibGit2() { _ = libgit2Initialized }

public enum LibGit2 {
  /// Starts initialising libgit2 on another thread, so that its cost (most of it parsing the
  /// system's CA bundle for HTTPS, about 8 ms) overlaps the rest of the process's start-up; the
  /// first real use waits for it to finish.
  public static func initializeInBackground() {
    Thread.detachNewThread { ensureLibGit2() }
  }
}

/// Turns a libgit2 return code into a thrown `GitError`, reading libgit2's per-thread last error
/// immediately (no suspension point may come between the failing call and this check).
@discardableResult
func check(_ rc: Int32, _ function: String) throws(GitError) -> Int32 {
  guard rc < 0 else { return rc }
  throw lastError(rc, function)
}

/// The error libgit2 recorded for the failing call `function` that returned `rc`.
func lastError(_ rc: Int32, _ function: String) -> GitError {
  let last = git_error_last()
  let text = last.flatMap { $0.pointee.message.map { String(cString: $0) } }
  let message = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "error \(rc)"
  return GitError(kind: .library, code: rc, errorClass: last?.pointee.klass ?? 0, function: function, message: message)
}

extension String {
  /// Decodes a C string lossily: invalid UTF-8 becomes U+FFFD instead of failing.
  init(lossyCString pointer: UnsafePointer<CChar>) {
    self = String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
  }
}

extension ObjectID {
  init(_ oid: UnsafePointer<git_oid>) {
    let hex = String(unsafeUninitializedCapacity: 40) { buffer in
      buffer.withMemoryRebound(to: CChar.self) { _ = git_oid_fmt($0.baseAddress, oid) }
      return 40
    }
    self.init(validatedHex: hex)
  }

  init(oid: git_oid) {
    self = withUnsafePointer(to: oid) { ObjectID($0) }
  }

  /// The libgit2 form of this id.
  var oid: git_oid {
    var oid = git_oid()
    _ = git_oid_fromstrn(&oid, hex, 40)
    return oid
  }
}
