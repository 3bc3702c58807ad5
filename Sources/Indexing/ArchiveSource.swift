internal import CArchive
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

    let lib = try LibArchive.load()
    guard let archive = lib.readNew() else { throw SourceError.archiveDamaged(path: path, detail: "out of memory") }
    defer { _ = lib.readFree(archive) }
    for support in [lib.supportFilterGzip, lib.supportFilterBzip2, lib.supportFilterXz, lib.supportFilterLzma,
                    lib.supportFormatTar, lib.supportFormatGnutar, lib.supportFormatZip] {
      _ = support(archive)
    }
    guard lib.readOpenFilename(archive, path, 1 << 16) == ARCHIVE_OK else {
      throw SourceError.notAnArchive(path: path, detail: Self.message(archive, lib))
    }

    var entries = 0
    var total = 0
    var entry: OpaquePointer?
    var buffer = [UInt8]()
    var lastEntryEnd: la_int64_t = 0
    while true {
      let rc = lib.readNextHeader(archive, &entry)
      if rc == ARCHIVE_EOF {
        // libarchive takes a tar cut at an entry boundary for a complete one. A whole tar ends in
        // two zero blocks (1024 bytes) after the last entry; without them, refuse it, so that a
        // truncated download never replaces a collection with part of its files.
        if lib.format(archive) & 0xFF0000 == 0x30000, lib.filterBytes(archive, 0) - lastEntryEnd < 1024 {
          throw SourceError.archiveDamaged(path: path, detail: "it ends without tar's end-of-archive marker, so it was cut short; nothing was changed")
        }
        break
      }
      guard rc >= ARCHIVE_WARN, let entry else {
        if entries == 0 { throw SourceError.notAnArchive(path: path, detail: Self.message(archive, lib)) }
        throw SourceError.archiveDamaged(path: path, detail: Self.message(archive, lib))
      }
      entries += 1
      if entries > limits.maxEntries { throw SourceError.tooManyEntries(path: path, limit: limits.maxEntries) }

      let name = Self.name(of: entry, lib)
      let type = lib.entryFiletype(entry) & 0o170000
      var reason: String?
      let normalized = Self.normalize(name)
      if type == 0o040000 {
        reason = ""  // folders need no record
      } else if case .failure(let why) = normalized {
        reason = why.description
      } else {
        if lib.entryHardlink(entry) != nil {
          reason = "hard link"
        } else if type == 0o120000 {
          reason = "symlink"
        } else if type != 0o100000 {
          reason = "device or special file"
        } else if lib.entrySparseCount(entry) > 0 {
          reason = "sparse file"
        }
      }

      // Read every entry's data (even skipped ones) so the size and ratio limits see it all.
      let keep = reason == nil
      let compressedBefore = lib.filterBytes(archive, -1)
      var entrySize = 0
      buffer.removeAll(keepingCapacity: true)
      var tooLarge = false
      while true {
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let dataRC = lib.readDataBlock(archive, &block, &size, &offset)
        if dataRC == ARCHIVE_EOF { break }
        guard dataRC >= ARCHIVE_WARN else { throw SourceError.archiveDamaged(path: path, detail: Self.message(archive, lib)) }
        entrySize += size
        total += size
        if total > limits.maxTotalBytes { throw SourceError.tooLargeUncompressed(path: path, limit: limits.maxTotalBytes) }
        if entrySize > limits.ratioThreshold {
          let compressed = max(Int(lib.filterBytes(archive, -1) - compressedBefore), 1)
          let ratio = entrySize / compressed
          if ratio > limits.maxRatio {
            throw SourceError.compressionRatio(path: path, entry: (try? normalized.get()) ?? name, ratio: ratio, limit: limits.maxRatio)
          }
        }
        if keep, !tooLarge, let block, size > 0 {
          if entrySize > maxFileSize {
            tooLarge = true
            buffer.removeAll()
          } else {
            buffer.append(contentsOf: UnsafeRawBufferPointer(start: block, count: size))
          }
        }
      }
      lastEntryEnd = lib.filterBytes(archive, 0)
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

  private static func message(_ archive: OpaquePointer, _ lib: LibArchive) -> String {
    lib.errorString(archive).map { String(cString: $0) } ?? "unknown error"
  }

  /// The entry's name, decoded lossily when it is not valid UTF-8.
  private static func name(of entry: OpaquePointer, _ lib: LibArchive) -> String {
    if let raw = lib.entryPathname(entry) {
      return String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self)
    }
    if let utf8 = lib.entryPathnameUTF8(entry) { return String(cString: utf8) }
    return "?"
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
