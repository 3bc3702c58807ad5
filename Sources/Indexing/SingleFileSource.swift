import Chunking
import Foundation
import Git
import GitRAGCore

/// Why a file, archive or folder given on the command line cannot be indexed.
public enum SourceError: UserFacingError, Equatable {
  case fileNotFound(String)
  case isDirectory(String)
  case notRegularFile(String)
  case unreadable(String)
  case tooLarge(path: String, size: Int, limit: Int)
  case unsupportedType(path: String, reason: String)
  case secret(path: String, reason: String)
  case notAnArchive(path: String, detail: String)
  case tooManyEntries(path: String, limit: Int)
  case tooLargeUncompressed(path: String, limit: Int)
  case compressionRatio(path: String, entry: String, ratio: Int, limit: Int)
  case archiveDamaged(path: String, detail: String)
  case invalidName(name: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case .fileNotFound(let path):
      "File not found: \(path). Check the path."
    case .isDirectory(let path):
      "\(path) is a directory, not a file. Use `git rag sync --dir \(path)` for a folder or `git rag upload archive` for an archive."
    case .notRegularFile(let path):
      "\(path) is not a regular file (unsupported type: device, socket or pipe). Upload a text file."
    case .unreadable(let path):
      "Cannot read \(path) (permission denied). Check its permissions."
    case let .tooLarge(path, size, limit):
      "File too large: \(path) is \(size) bytes, the limit is \(limit). Raise it with --max-file-size, or split the file."
    case let .unsupportedType(path, reason):
      "Unsupported type: \(path) (\(reason)). Only text files are indexed."
    case let .secret(path, reason):
      "Not indexing \(path): it looks like it holds a secret (\(reason)). Remove the secret, or keep the file out of the index."
    case let .notAnArchive(path, detail):
      "Unsupported type: \(path) is not a tar, tar.gz, tar.bz2, tar.xz or zip archive (\(detail))."
    case let .tooManyEntries(path, limit):
      "Archive \(path) has more than \(limit) entries. Split it, or raise the limit with --max-entries."
    case let .tooLargeUncompressed(path, limit):
      "Archive \(path) expands to more than \(limit) bytes. Split it, or raise the limit with --max-total-size."
    case let .compressionRatio(path, entry, ratio, limit):
      "Archive \(path) looks like a zip bomb: \(entry) expands \(ratio):1 (limit \(limit):1). Refusing it; recompress it or raise --max-ratio if you trust it."
    case let .archiveDamaged(path, detail):
      "Cannot read archive \(path): \(detail). Check that the file is complete."
    case let .invalidName(name, reason):
      "Cannot store a file as \(name): \(reason). Give --name a relative path inside the collection, e.g. docs/notes.md."
    }
  }
}

/// One file from disk, checked up front (exists, regular, readable, within the size limit,
/// text, no secret), indexed under `path` without touching the collection's other files.
public final class SingleFileSource: ContentSource {
  public let url: URL
  public let file: SourceFile
  private let data: Data
  public var revision: String? { nil }
  public var identity: String { url.path }

  /// Reads and checks the file at `url`; `path` is the name it is indexed under.
  public init(url: URL, path name: String, maxFileSize: Int, allowance: SecretAllowance = .none) throws {
    // The same rules as archive entries: relative, no `..`, normalised (`./a//b` is `a/b`).
    let path: String
    switch ArchiveSource.normalize(name) {
    case .success(let normalized): path = normalized
    case .failure(let reason): throw SourceError.invalidName(name: name, reason: reason.description)
    }
    let shown = url.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: shown, isDirectory: &isDirectory) else { throw SourceError.fileNotFound(shown) }
    if isDirectory.boolValue { throw SourceError.isDirectory(shown) }
    let attributes = try FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)
    guard attributes[.type] as? FileAttributeType == .typeRegular else { throw SourceError.notRegularFile(shown) }
    guard FileManager.default.isReadableFile(atPath: shown) else { throw SourceError.unreadable(shown) }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    // The same gate as a sync's, up front for a clear error; the sync gates (and redacts) it again.
    var data = Data()
    let admitted = try FileFilter(maxFileSize: maxFileSize).admit(
      path: path, kind: .regular, size: size, attribute: .unspecified, allowance: allowance
    ) {
      data = try Data(contentsOf: url)
      return data
    }
    if case .failure(let reason) = admitted { throw Self.error(reason, path: shown) }
    self.url = url
    self.data = data
    file = SourceFile(path: path, hash: GitBlob.id(of: data).hex, kind: .regular)
  }

  static func error(_ reason: SkipReason, path: String) -> SourceError {
    switch reason {
    case .tooLarge(let size, let limit): .tooLarge(path: path, size: size, limit: limit)
    case .secretName(let what), .secretContent(let what): .secret(path: path, reason: what)
    default: .unsupportedType(path: path, reason: reason.description)
    }
  }

  public func files() throws -> [SourceFile] { [file] }
  public func size(of file: SourceFile) throws -> Int { data.count }
  public func read(_ file: SourceFile) throws -> Data { data }
  public func ragAttribute(_ path: String) -> RagAttribute { .unspecified }
}
