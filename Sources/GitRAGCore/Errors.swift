import Foundation

/// Process exit codes, documented in the README ("Exit codes"), so scripts can branch on them.
public enum ExitStatus {
  /// Success (a search found something).
  public static let success: Int32 = 0
  /// A search matched nothing, as with grep.
  public static let noResults: Int32 = 1
  /// A usage error: a bad flag, argument or setting value.
  public static let usage: Int32 = 2
  /// Any other error (store unreachable, collection missing, repository not found, ...).
  public static let failure: Int32 = 3
}

/// An error a user can cause and act on: one line that says what happened and what to do.
///
/// Every module's error type conforms, so the command line prints `errorDescription` and exits with
/// `exitCode` without knowing the module.
public protocol UserFacingError: LocalizedError {
  /// Process exit code: `ExitStatus.usage` for usage errors, `ExitStatus.failure` otherwise (the default).
  var exitCode: Int32 { get }
}

extension UserFacingError {
  public var exitCode: Int32 { ExitStatus.failure }
}

/// A plain user-facing error carrying its own message.
public struct GitRAGError: UserFacingError, CustomStringConvertible {
  public let message: String
  public let exitCode: Int32

  public init(_ message: String, exitCode: Int32 = ExitStatus.failure) {
    self.message = message
    self.exitCode = exitCode
  }

  public var errorDescription: String? { message }
  public var description: String { message }
}
