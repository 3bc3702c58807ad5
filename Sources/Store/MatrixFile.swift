import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The bfloat16 rows of a `VectorMatrix`: memory of its own, or a read-only mapping of a
/// `MatrixFile`, which the page cache shares between processes.
final class BFloat16Rows: @unchecked Sendable {
  // Unchecked: the rows are written only while loading, before the matrix is shared.
  let pointer: UnsafePointer<UInt16>
  private let capacity: Int
  private let mapping: (base: UnsafeMutableRawPointer, length: Int)?

  /// Zeroed rows of `capacity` values, owned.
  init(capacity: Int) {
    let memory = UnsafeMutablePointer<UInt16>.allocate(capacity: max(capacity, 1))
    memory.initialize(repeating: 0, count: max(capacity, 1))
    pointer = UnsafePointer(memory)
    self.capacity = capacity
    mapping = nil
  }

  /// `count` values at `offset` into a mapping of `length` bytes at `base`, unmapped with the rows.
  fileprivate init(mapping base: UnsafeMutableRawPointer, length: Int, offset: Int, count: Int) {
    pointer = UnsafePointer((base + offset).assumingMemoryBound(to: UInt16.self))
    capacity = count
    mapping = (base, length)
  }

  /// Writable view, for filling owned rows while loading.
  var mutableBuffer: UnsafeMutableBufferPointer<UInt16> {
    precondition(mapping == nil, "mapped rows are read-only")
    return UnsafeMutableBufferPointer(start: UnsafeMutablePointer(mutating: pointer), count: capacity)
  }

  deinit {
    if let mapping {
      munmap(mapping.base, mapping.length)
    } else {
      UnsafeMutablePointer(mutating: pointer).deallocate()
    }
  }
}

/// A `VectorMatrix` on disk, beside its collection (`<collection>.sqlite-vectors`).
///
/// Decoding 100,000 float32 vectors out of SQLite takes most of a second, and every
/// `git rag search` is a new process; mapping this file takes milliseconds. The file names the
/// collection file (device, inode and the instance number drawn when the collection was created:
/// a deleted and re-created collection is another one) and the write generation it was made at, so a stale file is never used; it is replaced atomically.
///
/// Layout (native byte order): an 88-byte header (magic, format, device, inode, the collection's
/// random instance number, generation, dimension, rows, files, languages, string bytes), the bfloat16 rows, then row ids (Int64),
/// error bounds (Float32), file and language indices (Int32), and the file paths and languages
/// as NUL-terminated UTF-8, files first.
enum MatrixFile {
  static let magic: UInt64 = 0x3152_5441_4D47_5247  // "GRGMATR1" read as little-endian bytes
  static let headerSize = 88

  /// The identity of the collection file at `path`: (device, inode), or nil if it is missing.
  static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (UInt64(info.st_dev), UInt64(info.st_ino))
  }

  /// The matrix stored at `path` for the collection file `collectionPath` at `generation`, or nil
  /// when there is none, it belongs to another file or generation, or it is damaged.
  static func read(path: String, collectionPath: String, instance: Int64, generation: Int64, dimension: Int) -> VectorMatrix? {
    guard let identity = identity(of: collectionPath) else { return nil }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_size >= headerSize else { return nil }
    let length = Int(info.st_size)
    guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), base != MAP_FAILED else { return nil }
    var keep = false
    defer { if !keep { munmap(base, length) } }

    let header = UnsafeRawPointer(base)
    func word(_ index: Int) -> UInt64 { header.load(fromByteOffset: index * 8, as: UInt64.self) }
    guard word(0) == magic, word(1) == 1, word(2) == identity.device, word(3) == identity.inode,
      Int64(bitPattern: word(4)) == instance, Int64(bitPattern: word(5)) == generation, word(6) == UInt64(dimension)
    else { return nil }
    let rows = Int(word(7)), fileCount = Int(word(8)), languageCount = Int(word(9)), stringBytes = Int(word(10))
    guard rows >= 0, rows < 1 << 40, fileCount >= 0, languageCount >= 0, stringBytes >= 0, stringBytes < 1 << 40 else { return nil }
    let tail = headerSize + rows * dimension * 2
    guard length == tail + rows * (8 + 4 + 4 + 4) + stringBytes else { return nil }

    // Copied out (they are small); the offsets need not be aligned for their types.
    func array<T: BitwiseCopyable>(_ type: T.Type, at offset: Int) -> [T] {
      [T](unsafeUninitializedCapacity: rows) { buffer, initialized in
        if rows > 0 { memcpy(buffer.baseAddress!, header + offset, rows * MemoryLayout<T>.stride) }
        initialized = rows
      }
    }
    let rowIDs = array(Int64.self, at: tail)
    let errorBounds = array(Float.self, at: tail + rows * 8)
    let fileOfRow = array(Int32.self, at: tail + rows * 12)
    let languageOfRow = array(Int32.self, at: tail + rows * 16)
    let strings = UnsafeBufferPointer(start: (header + tail + rows * 20).assumingMemoryBound(to: UInt8.self), count: stringBytes)
    var names: [String] = []
    var start = 0
    for (i, byte) in strings.enumerated() where byte == 0 {
      names.append(String(decoding: UnsafeBufferPointer(rebasing: strings[start..<i]), as: UTF8.self))
      start = i + 1
    }
    guard start == stringBytes, names.count == fileCount + languageCount,
      fileOfRow.allSatisfy({ $0 >= 0 && Int($0) < fileCount }),
      languageOfRow.allSatisfy({ $0 >= 0 && Int($0) < languageCount })
    else { return nil }

    keep = true
    let values = BFloat16Rows(mapping: base, length: length, offset: headerSize, count: rows * dimension)
    return VectorMatrix(
      generation: generation, dimension: dimension, rowIDs: rowIDs, values: values, errorBounds: errorBounds,
      fileOfRow: fileOfRow, files: Array(names[..<fileCount]), languageOfRow: languageOfRow,
      languages: Array(names[fileCount...]))
  }

  /// Writes `matrix` for the collection file `collectionPath` to `path` (via a temporary file and a
  /// rename, so readers see the old file or the new one). Best effort: a failure leaves no file.
  static func write(_ matrix: VectorMatrix, path: String, collectionPath: String, instance: Int64) {
    guard let identity = identity(of: collectionPath) else { return }
    var strings: [UInt8] = []
    for name in matrix.files + matrix.languages {
      strings.append(contentsOf: name.utf8.map { $0 == 0 ? UInt8(ascii: " ") : $0 })
      strings.append(0)
    }
    var header = [UInt64](repeating: 0, count: headerSize / 8)
    header[0] = magic
    header[1] = 1
    header[2] = identity.device
    header[3] = identity.inode
    header[4] = UInt64(bitPattern: instance)
    header[5] = UInt64(bitPattern: matrix.generation)
    header[6] = UInt64(matrix.dimension)
    header[7] = UInt64(matrix.count)
    header[8] = UInt64(matrix.files.count)
    header[9] = UInt64(matrix.languages.count)
    header[10] = UInt64(strings.count)

    let temporary = "\(path).\(getpid()).tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    var ok = true
    func put(_ pointer: UnsafeRawPointer, _ count: Int) {
      var written = 0
      while ok, written < count {
        let n = Glibc.write(fd, pointer + written, count - written)
        if n <= 0 { ok = false } else { written += n }
      }
    }
    header.withUnsafeBytes { put($0.baseAddress!, $0.count) }
    put(matrix.values.pointer, matrix.count * matrix.dimension * 2)
    matrix.rowIDs.withUnsafeBytes { if $0.count > 0 { put($0.baseAddress!, $0.count) } }
    matrix.errorBounds.withUnsafeBytes { if $0.count > 0 { put($0.baseAddress!, $0.count) } }
    matrix.fileOfRow.withUnsafeBytes { if $0.count > 0 { put($0.baseAddress!, $0.count) } }
    matrix.languageOfRow.withUnsafeBytes { if $0.count > 0 { put($0.baseAddress!, $0.count) } }
    strings.withUnsafeBytes { if $0.count > 0 { put($0.baseAddress!, $0.count) } }
    close(fd)
    if !ok || rename(temporary, path) != 0 { unlink(temporary) }
  }
}
