import Foundation

/// An error a user can cause and act on: one line that says what happened and what to do.
///
/// Every module's error type conforms, so the command line prints `errorDescription` and exits with
/// `exitCode` without knowing the module.
public protocol UserFacingError: LocalizedError {
  /// Process exit code: 2 for usage errors, 1 otherwise (the default).
  var exitCode: Int32 { get }
}

extension UserFacingError {
  public var exitCode: Int32 { 1 }
}

/// A plain user-facing error carrying its own message.
public struct GitRAGError: UserFacingError, CustomStringConvertible {
  public let message: String
  public let exitCode: Int32

  public init(_ message: String, exitCode: Int32 = 1) {
    self.message = message
    self.exitCode = exitCode
  }

  public var errorDescription: String? { message }
  public var description: String { message }
}
