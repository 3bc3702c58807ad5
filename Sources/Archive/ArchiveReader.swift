internal import CArchive
import Foundation

/// What an archive entry is.
public enum ArchiveEntryKind: Sendable, Equatable {
  case file
  case directory
  case symlink
  /// A hard link to an earlier entry (`ArchiveEntry.hardLinkTarget` names it).
  case hardLink
  /// A device, FIFO or socket.
  case special
}

/// One entry's header, as the archive states it.
public struct ArchiveEntry: Sendable, Equatable {
  /// The name stored in the archive, unnormalised (may be absolute or hold `..`), decoded
  /// lossily when it is not valid UTF-8.
  public let path: String
  public let kind: ArchiveEntryKind
  /// The size the header declares, when it declares one (zip entries may not).
  public let size: Int?
  /// A sparse file (its holes are not stored).
  public let isSparse: Bool
  public let hardLinkTarget: String?
}

/// Why reading an archive failed; the caller names the file in its own message.
public enum ArchiveReadError: Error, Equatable {
  /// Not an archive of a known format (or empty): `detail` is libarchive's reason.
  case notAnArchive(detail: String)
  /// Damaged or cut short after its first entry.
  case damaged(detail: String)
}

/// A tar (plain, gzip, bzip2, xz, lzma) or zip archive read as a stream, entry by entry.
///
/// Iterating yields each entry's header (or the error that ended the archive, as the last
/// element); `readData` streams the current entry's bytes. An entry's unread data is skipped
/// when the next entry is asked for. A tar without its end-of-archive marker (a cut download)
/// ends in `.damaged`, although libarchive itself takes it for complete.
///
/// ```swift
/// for element in try ArchiveReader(path: path) {
///   let entry = try element.get()
///   try reader.readData { block in ... }
/// }
/// ```
public final class ArchiveReader: Sequence, IteratorProtocol {
  public typealias Element = Result<ArchiveEntry, ArchiveReadError>

  private let lib: LibArchive
  private let archive: OpaquePointer
  private var entries = 0
  private var dataPending = false
  private var finished = false
  /// Uncompressed bytes read when the last entry's data ended (the tar end-marker check).
  private var lastEntryEnd: la_int64_t = 0

  /// Opens the archive at `path`; throws `LibArchiveError` when libarchive is missing and
  /// `ArchiveReadError.notAnArchive` when the file cannot be read as an archive.
  public init(path: String) throws {
    lib = try LibArchive.load()
    guard let archive = lib.readNew() else { throw ArchiveReadError.damaged(detail: "out of memory") }
    self.archive = archive
    let formats = [
      lib.supportFilterGzip, lib.supportFilterBzip2, lib.supportFilterXz, lib.supportFilterLzma,
      lib.supportFormatTar, lib.supportFormatGnutar, lib.supportFormatZip,
    ]
    for support in formats { _ = support(archive) }
    guard lib.readOpenFilename(archive, path, 1 << 16) == ARCHIVE_OK else {
      throw ArchiveReadError.notAnArchive(detail: message)
    }
  }

  deinit { _ = lib.readFree(archive) }

  /// Bytes of the archive file consumed so far (compressed), for expansion-ratio limits.
  public var compressedBytesRead: Int { Int(lib.filterBytes(archive, -1)) }

  /// The next entry's header, an error that ends the archive, or nil after its end.
  public func next() -> Element? {
    guard !finished else { return nil }
    if dataPending {
      do { try readData { _ in } } catch { return fail(error as? ArchiveReadError ?? .damaged(detail: message)) }
    }
    var entry: OpaquePointer?
    let rc = lib.readNextHeader(archive, &entry)
    if rc == ARCHIVE_EOF {
      finished = true
      // A whole tar ends in two zero blocks (1024 bytes) after the last entry; libarchive takes
      // a tar cut at an entry boundary for a complete one.
      if lib.format(archive) & 0xFF0000 == 0x30000, lib.filterBytes(archive, 0) - lastEntryEnd < 1024 {
        return .failure(.damaged(detail: "it ends without tar's end-of-archive marker, so it was cut short; nothing was changed"))
      }
      return nil
    }
    guard rc >= ARCHIVE_WARN, let entry else {
      return fail(entries == 0 ? .notAnArchive(detail: message) : .damaged(detail: message))
    }
    entries += 1
    dataPending = true
    let hardLink = lib.entryHardlink(entry).map { String(cString: $0) }
    let type = lib.entryFiletype(entry) & 0o170000
    let kind: ArchiveEntryKind =
      if type == 0o040000 {
        .directory
      } else if hardLink != nil {
        .hardLink
      } else if type == 0o120000 {
        .symlink
      } else if type == 0o100000 {
        .file
      } else {
        .special
      }
    return .success(
      ArchiveEntry(
        path: name(of: entry), kind: kind, size: lib.entrySizeIsSet(entry) != 0 ? Int(lib.entrySize(entry)) : nil,
        isSparse: lib.entrySparseCount(entry) > 0, hardLinkTarget: hardLink))
  }

  /// Streams the current entry's data to `body`, one block at a time (nothing after the first
  /// call). Throws `ArchiveReadError.damaged`, or whatever `body` throws.
  public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    guard dataPending else { return }
    while true {
      var block: UnsafeRawPointer?
      var size = 0
      var offset: la_int64_t = 0
      let rc = lib.readDataBlock(archive, &block, &size, &offset)
      if rc == ARCHIVE_EOF { break }
      guard rc >= ARCHIVE_WARN else { throw ArchiveReadError.damaged(detail: message) }
      if size > 0 { try body(UnsafeRawBufferPointer(start: block, count: size)) }
    }
    dataPending = false
    lastEntryEnd = lib.filterBytes(archive, 0)
  }

  private func fail(_ error: ArchiveReadError) -> Element {
    finished = true
    return .failure(error)
  }

  private var message: String { lib.errorString(archive).map { String(cString: $0) } ?? "unknown error" }

  /// The entry's name, decoded lossily when it is not valid UTF-8.
  private func name(of entry: OpaquePointer) -> String {
    if let raw = lib.entryPathname(entry) {
      return String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self)
    }
    if let utf8 = lib.entryPathnameUTF8(entry) { return String(cString: utf8) }
    return "?"
  }
}
