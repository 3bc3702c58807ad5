import Foundation

/// A fresh folder under the system temporary directory, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
  // @unchecked: `url` is immutable after init; deinit only removes the folder.
  public let url: URL

  public init(prefix: String = "git-rag-test") throws {
    let base = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
    url = base.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  public var path: String { url.path }

  /// Writes `contents` at `relativePath`, creating folders as needed.
  @discardableResult
  public func write(_ relativePath: String, _ contents: String) throws -> URL {
    try write(relativePath, data: Data(contents.utf8))
  }

  @discardableResult
  public func write(_ relativePath: String, data: Data) throws -> URL {
    let file = url.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try data.write(to: file)
    return file
  }

  deinit { try? FileManager.default.removeItem(at: url) }
}
