import Archive
import Chunking
import Foundation
import Git
import GitRAGCore

/// Bounds on what an archive may expand to.
public struct ArchiveLimits: Sendable {
  /// Most entries (files, folders, links) an archive may have.
  public var maxEntries = 50_000
  /// Most bytes all entries may expand to.
  public var maxTotalBytes = 1 << 30
  /// Largest expansion ratio of an entry (uncompressed : compressed bytes read), checked once an
  /// entry passes `ratioThreshold` bytes.
  public var maxRatio = 200
  public var ratioThreshold = 1 << 20

  public init() {}
}

/// A tar (plain, gzip, bzip2, xz) or zip archive, read as a stream with libarchive: entries are
/// checked, filtered and kept in memory, nothing is extracted to disk.
///
/// Absolute paths, `..` components, symlinks, hard links and device entries are skipped with a
/// reason; the entry count, the total expanded size and the compression ratio are bounded.
public final class ArchiveSource: ContentSource {
  public let url: URL
  public var revision: String? { nil }
  public var identity: String { url.path }
  /// Entries not indexed, with the reason (the engine reports filtered files separately).
  public private(set) var skipped: [(path: String, reason: String)] = []
  private var contents: [String: Data] = [:]
  private var snapshot: [SourceFile] = []

  /// Reads the whole archive once; throws on a limit breach or a damaged archive.
  public init(url: URL, limits: ArchiveLimits = ArchiveLimits(), maxFileSize: Int = 1 << 20) throws {
    self.url = url
    let path = url.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw SourceError.fileNotFound(path) }
    if isDirectory.boolValue { throw SourceError.isDirectory(path) }
    guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError.unreadable(path) }

    let reader: ArchiveReader
    do { reader = try ArchiveReader(path: path) } catch let error as ArchiveReadError { throw Self.sourceError(error, path) }
    var entries = 0
    var total = 0
    var buffer = [UInt8]()
    for element in reader {
      let entry: ArchiveEntry
      switch element {
      case .success(let value): entry = value
      case .failure(let error): throw Self.sourceError(error, path)
      }
      entries += 1
      if entries > limits.maxEntries { throw SourceError.tooManyEntries(path: path, limit: limits.maxEntries) }

      let name = entry.path
      var reason: String?
      let normalized = Self.normalize(name)
      if entry.kind == .directory {
        reason = ""  // folders need no record
      } else if case .failure(let why) = normalized {
        reason = why.description
      } else {
        switch entry.kind {
        case .hardLink: reason = "hard link"
        case .symlink: reason = "symlink"
        case .special, .directory: reason = "device or special file"
        case .file: if entry.isSparse { reason = "sparse file" }
        }
      }

      // Read every entry's data (even skipped ones) so the size and ratio limits see it all.
      let keep = reason == nil
      let compressedBefore = reader.compressedBytesRead
      var entrySize = 0
      buffer.removeAll(keepingCapacity: true)
      var tooLarge = false
      do {
        try reader.readData { block in
          entrySize += block.count
          total += block.count
          if total > limits.maxTotalBytes { throw SourceError.tooLargeUncompressed(path: path, limit: limits.maxTotalBytes) }
          if entrySize > limits.ratioThreshold {
            let compressed = max(reader.compressedBytesRead - compressedBefore, 1)
            let ratio = entrySize / compressed
            if ratio > limits.maxRatio {
              throw SourceError.compressionRatio(path: path, entry: (try? normalized.get()) ?? name, ratio: ratio, limit: limits.maxRatio)
            }
          }
          if keep, !tooLarge {
            if entrySize > maxFileSize {
              tooLarge = true
              buffer.removeAll()
            } else {
              buffer.append(contentsOf: block)
            }
          }
        }
      } catch let error as ArchiveReadError {
        throw Self.sourceError(error, path)
      }
      guard case .success(let entryPath) = normalized, keep else {
        if let reason, !reason.isEmpty { skipped.append((name, reason)) }
        continue
      }
      if tooLarge {
        skipped.append((entryPath, SkipReason.tooLarge(size: entrySize, limit: maxFileSize).description))
        contents[entryPath] = nil
        continue
      }
      contents[entryPath] = Data(buffer)
    }
    snapshot = contents.map { SourceFile(path: $0.key, hash: GitBlob.id(of: $0.value).hex, kind: .regular) }.sorted { $0.path < $1.path }
  }

  private static func sourceError(_ error: ArchiveReadError, _ path: String) -> SourceError {
    switch error {
    case .notAnArchive(let detail): .notAnArchive(path: path, detail: detail)
    case .damaged(let detail): .archiveDamaged(path: path, detail: detail)
    }
  }

  /// `./a//b/./c` → `a/b/c`; absolute paths and `..` components are refused with a reason.
  public static func normalize(_ name: String) -> Result<String, ArchivePathError> {
    let unified = name.replacingOccurrences(of: "\\", with: "/")
    if unified.hasPrefix("/") { return .failure(ArchivePathError("absolute path")) }
    if unified.count >= 2, unified.dropFirst().first == ":", unified.first?.isLetter == true {
      return .failure(ArchivePathError("absolute path"))
    }
    var parts: [Substring] = []
    for part in unified.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." { return .failure(ArchivePathError("path traversal (..)")) }
      parts.append(part)
    }
    guard !parts.isEmpty else { return .failure(ArchivePathError("empty path")) }
    return .success(parts.joined(separator: "/"))
  }

  public func files() throws -> [SourceFile] { snapshot }
  public func size(of file: SourceFile) throws -> Int { contents[file.path]?.count ?? 0 }
  public func read(_ file: SourceFile) throws -> Data { contents[file.path] ?? Data() }
  public func ragAttribute(_ path: String) -> RagAttribute { .unspecified }
}

/// Why an archive entry's path is refused.
public struct ArchivePathError: Error, Equatable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
