import Foundation
import GitRAGCore

/// A failure reported by libgit2, or a repository state a user has to act on.
///
/// `function` and `message` carry libgit2's own context; `kind` says which of the situations a
/// caller may want to handle it is, and `errorDescription` is the one line a user reads.
public struct GitError: UserFacingError, CustomStringConvertible, Sendable {
  /// The situations callers tell apart.
  public enum Kind: Sendable, Hashable {
    /// No repository at (or above) `path`.
    case notARepository(path: String)
    /// The repository belongs to another user and is not listed in `safe.directory`.
    case notOwned(path: String)
    /// HEAD points at a branch with no commit yet.
    case unbornHead(branch: String)
    /// The object is not in the object database (or is not of the expected type).
    case objectNotFound(String)
    /// The object exists but cannot be read: a damaged loose object or pack.
    case corruptObject(String)
    /// A revision expression that names nothing.
    case invalidRevision(String)
    /// Any other libgit2 failure; see `function` and `message`.
    case library
  }

  public let kind: Kind
  /// libgit2's return code (`GIT_ENOTFOUND` is -3 and so on), or -1.
  public let code: Int32
  /// libgit2's error class (`git_error_t`), 0 when none was recorded.
  public let errorClass: Int32
  /// The libgit2 function that failed.
  public let function: String
  /// libgit2's message for the failure.
  public let message: String

  init(kind: Kind, code: Int32, errorClass: Int32 = 0, function: String, message: String) {
    self.kind = kind
    self.code = code
    self.errorClass = errorClass
    self.function = function
    self.message = message
  }

  func with(kind: Kind) -> GitError {
    GitError(kind: kind, code: code, errorClass: errorClass, function: function, message: message)
  }

  /// No repository at or above `path`.
  public static func notARepository(_ path: String) -> GitError {
    GitError(
      kind: .notARepository(path: path), code: -3, function: "git_repository_open_ext",
      message: "could not find repository at '\(path)'")
  }

  /// HEAD names `branch`, which has no commit yet.
  public static func unbornHead(_ branch: String) -> GitError {
    GitError(
      kind: .unbornHead(branch: branch), code: -9, function: "git_repository_head",
      message: "reference 'refs/heads/\(branch)' not found")
  }

  /// `id` is not in the object database.
  public static func objectNotFound(_ id: ObjectID) -> GitError {
    GitError(kind: .objectNotFound(id.hex), code: -3, function: "git_odb_read", message: "object not found - no match for id (\(id.hex))")
  }

  /// True when libgit2 reported that something does not exist (`GIT_ENOTFOUND`).
  public var isNotFound: Bool { code == -3 }

  public var errorDescription: String? {
    switch kind {
    case .notARepository(let path):
      "Not a git repository (or any parent): \(path). Run git-rag inside a repository or use --dir."
    case .notOwned(let path):
      "The repository at \(path) is owned by another user. If you trust it, run: git config --global --add safe.directory \(path)"
    case .unbornHead(let branch):
      "Nothing committed yet on branch \(branch). Make a first commit, then run git-rag again."
    case .objectNotFound(let what):
      "Git object \(what) is not in this repository (\(message)). Fetch the missing history (e.g. git fetch --unshallow) or re-run a full index."
    case .corruptObject(let what):
      "Git object \(what) cannot be read (\(message)). Check the repository with git fsck and re-fetch it."
    case .invalidRevision(let revision):
      "Unknown revision '\(revision)' (\(message)). Pass a commit, branch or tag that exists."
    case .library:
      "Git operation \(function) failed: \(message)"
    }
  }

  public var description: String { errorDescription ?? "\(function): \(message)" }
}
