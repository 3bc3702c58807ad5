internal import CArchive
import Foundation
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

/// libarchive, loaded the first time an archive is read.
///
/// Linked, libarchive and what it needs (libxml2, ICU's 30 MB data library, four compressors)
/// cost every git-rag process about 4 ms to map and bind, a tenth of a hook's sync, for the one
/// command that reads archives. The header still comes from the `CArchive` module (constants,
/// types); the functions come from `dlsym`, with the C signatures spelled out below.
struct LibArchive: Sendable {
  typealias Archive = OpaquePointer
  typealias Entry = OpaquePointer

  let readNew: @convention(c) () -> Archive?
  let readFree: @convention(c) (Archive?) -> Int32
  let supportFilterGzip: @convention(c) (Archive?) -> Int32
  let supportFilterBzip2: @convention(c) (Archive?) -> Int32
  let supportFilterXz: @convention(c) (Archive?) -> Int32
  let supportFilterLzma: @convention(c) (Archive?) -> Int32
  let supportFormatTar: @convention(c) (Archive?) -> Int32
  let supportFormatGnutar: @convention(c) (Archive?) -> Int32
  let supportFormatZip: @convention(c) (Archive?) -> Int32
  /// (archive, path, block size)
  let readOpenFilename: @convention(c) (Archive?, UnsafePointer<CChar>?, Int) -> Int32
  let readNextHeader: @convention(c) (Archive?, UnsafeMutablePointer<Entry?>?) -> Int32
  /// (archive, &block, &size, &offset)
  let readDataBlock:
    @convention(c) (
      Archive?, UnsafeMutablePointer<UnsafeRawPointer?>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<la_int64_t>?
    ) -> Int32
  /// (archive, filter index; -1 is the raw input)
  let filterBytes: @convention(c) (Archive?, Int32) -> la_int64_t
  let errorString: @convention(c) (Archive?) -> UnsafePointer<CChar>?
  /// The format code of the archive being read (`ARCHIVE_FORMAT_TAR` and its variants: 0x3xxxx).
  let format: @convention(c) (Archive?) -> Int32
  let entryFiletype: @convention(c) (Entry?) -> mode_t
  let entryHardlink: @convention(c) (Entry?) -> UnsafePointer<CChar>?
  let entrySparseCount: @convention(c) (Entry?) -> Int32
  let entryPathname: @convention(c) (Entry?) -> UnsafePointer<CChar>?
  let entryPathnameUTF8: @convention(c) (Entry?) -> UnsafePointer<CChar>?
  let entrySize: @convention(c) (Entry?) -> la_int64_t
  let entrySizeIsSet: @convention(c) (Entry?) -> Int32

  /// The library, loaded once; a clear error when it is missing.
  static func load() throws -> LibArchive { try shared.get() }

  private static let shared: Result<LibArchive, LibArchiveError> = {
    let names = ["libarchive.so.13", "libarchive.so", "libarchive.13.dylib", "libarchive.dylib"]
    guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
      return .failure(LibArchiveError(reason: dlerror().map { String(cString: $0) } ?? "not found"))
    }
    var missing: [String] = []
    func function<T>(_ name: String, as type: T.Type) -> T {
      guard let symbol = dlsym(handle, name) else {
        missing.append(name)
        return unsafeBitCast(UnsafeRawPointer(bitPattern: 1)!, to: type)  // never called: the load fails below
      }
      return unsafeBitCast(symbol, to: type)
    }
    let library = LibArchive(
      readNew: function("archive_read_new", as: (@convention(c) () -> Archive?).self),
      readFree: function("archive_read_free", as: (@convention(c) (Archive?) -> Int32).self),
      supportFilterGzip: function("archive_read_support_filter_gzip", as: (@convention(c) (Archive?) -> Int32).self),
      supportFilterBzip2: function("archive_read_support_filter_bzip2", as: (@convention(c) (Archive?) -> Int32).self),
      supportFilterXz: function("archive_read_support_filter_xz", as: (@convention(c) (Archive?) -> Int32).self),
      supportFilterLzma: function("archive_read_support_filter_lzma", as: (@convention(c) (Archive?) -> Int32).self),
      supportFormatTar: function("archive_read_support_format_tar", as: (@convention(c) (Archive?) -> Int32).self),
      supportFormatGnutar: function("archive_read_support_format_gnutar", as: (@convention(c) (Archive?) -> Int32).self),
      supportFormatZip: function("archive_read_support_format_zip", as: (@convention(c) (Archive?) -> Int32).self),
      readOpenFilename: function(
        "archive_read_open_filename", as: (@convention(c) (Archive?, UnsafePointer<CChar>?, Int) -> Int32).self),
      readNextHeader: function(
        "archive_read_next_header", as: (@convention(c) (Archive?, UnsafeMutablePointer<Entry?>?) -> Int32).self),
      readDataBlock: function(
        "archive_read_data_block",
        as: (@convention(c) (
          Archive?, UnsafeMutablePointer<UnsafeRawPointer?>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<la_int64_t>?
        ) -> Int32).self),
      filterBytes: function("archive_filter_bytes", as: (@convention(c) (Archive?, Int32) -> la_int64_t).self),
      errorString: function("archive_error_string", as: (@convention(c) (Archive?) -> UnsafePointer<CChar>?).self),
      format: function("archive_format", as: (@convention(c) (Archive?) -> Int32).self),
      entryFiletype: function("archive_entry_filetype", as: (@convention(c) (Entry?) -> mode_t).self),
      entryHardlink: function("archive_entry_hardlink", as: (@convention(c) (Entry?) -> UnsafePointer<CChar>?).self),
      entrySparseCount: function("archive_entry_sparse_count", as: (@convention(c) (Entry?) -> Int32).self),
      entryPathname: function("archive_entry_pathname", as: (@convention(c) (Entry?) -> UnsafePointer<CChar>?).self),
      entryPathnameUTF8: function("archive_entry_pathname_utf8", as: (@convention(c) (Entry?) -> UnsafePointer<CChar>?).self),
      entrySize: function("archive_entry_size", as: (@convention(c) (Entry?) -> la_int64_t).self),
      entrySizeIsSet: function("archive_entry_size_is_set", as: (@convention(c) (Entry?) -> Int32).self))
    if !missing.isEmpty {
      return .failure(LibArchiveError(reason: "it lacks \(missing.joined(separator: ", ")) (libarchive 3.4 or newer is needed)"))
    }
    return .success(library)
  }()
}

/// libarchive could not be loaded (not installed, or too old).
public struct LibArchiveError: UserFacingError {
  public let reason: String
  public var errorDescription: String? {
    "Cannot load libarchive, which reading archives needs: \(reason). Install it with `apt-get install libarchive13` (scripts/bootstrap does)."
  }
}
