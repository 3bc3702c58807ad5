import Dispatch
import Foundation
import GRDB
import GitRAGCore

/// Every vector of one collection in memory, for exact cosine search in two steps.
///
/// Rows are scaled to unit length and kept as bfloat16 (the top 16 bits of a float32, rounded):
/// scanning is bound by memory bandwidth, and half the bytes scan twice as fast (measured: 10 ms
/// instead of 22 ms of CPU for 100,000 × 384). Each row also keeps the exact length of its rounding
/// error, a bound on how far its approximate score can be from the exact one. `candidates` returns
/// every row that could be in the exact top k; the caller rescores those from the float32 rows in
/// SQLite. So results are exact, while the scan touches 2 bytes per value.
///
/// Immutable: a write to the collection makes a new one (see `generation`). It is also kept in a
/// file beside the collection (`MatrixFile`), so a new process maps it instead of decoding every
/// vector from SQLite again.
final class VectorMatrix: Sendable {
  /// The collection's write generation this matrix was loaded at.
  let generation: Int64
  let dimension: Int
  /// `points.rowid` of each row.
  let rowIDs: [Int64]
  /// `rowIDs.count * dimension` bfloat16 values of the unit-length rows.
  let values: BFloat16Rows
  /// Per row: the length of (unit row − its bfloat16 copy), plus slack for float rounding.
  let errorBounds: [Float]
  /// Index into `files` of each row's `file_path`.
  let fileOfRow: [Int32]
  let files: [String]
  /// Index into `languages` of each row's `language`.
  let languageOfRow: [Int32]
  let languages: [String]

  var count: Int { rowIDs.count }

  /// File masks of recent globs (a search UI repeats its filter); bounded, dropped with the matrix.
  private let globMasks = Locked<[String: [Bool]]>([:])

  /// Reads every stored vector of `dimension` floats (rows of another length are skipped).
  init(loadingFrom db: Database, generation: Int64, dimension: Int) throws {
    self.generation = generation
    self.dimension = dimension
    let expected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM points WHERE vector IS NOT NULL") ?? 0
    var rowIDs: [Int64] = []
    rowIDs.reserveCapacity(expected)
    let values = BFloat16Rows(capacity: expected * dimension)
    var errorBounds: [Float] = []
    errorBounds.reserveCapacity(expected)
    var fileOfRow: [Int32] = [], languageOfRow: [Int32] = []
    fileOfRow.reserveCapacity(expected)
    languageOfRow.reserveCapacity(expected)
    var files: [String] = [], languages: [String] = []
    var fileIndex: [String: Int32] = [:], languageIndex: [String: Int32] = [:]
    if dimension > 0 {
      var row32 = [Float](repeating: 0, count: dimension)
      let rows = try Row.fetchCursor(
        db, sql: "SELECT rowid, file_path, language, vector FROM points WHERE vector IS NOT NULL ORDER BY rowid")
      do {
        let buffer = values.mutableBuffer
        try row32.withUnsafeMutableBufferPointer { unit in
          while let row = try rows.next(), rowIDs.count < expected {
            let decoded = try row.withUnsafeData(atIndex: 3) { blob -> Bool in
              guard let blob, blob.count == dimension * 4 else { return false }
              VectorBlob.decode(blob, into: unit.baseAddress!, count: dimension)
              return true
            }
            guard decoded else { continue }
            Self.normalise(unit.baseAddress!, dimension)
            let target = buffer.baseAddress! + rowIDs.count * dimension
            var error: Float = 0
            for i in 0..<dimension {
              let half = Self.bfloat16(unit[i])
              target[i] = half
              let e = unit[i] - Float(bitPattern: UInt32(half) << 16)
              error += e * e
            }
            // |q·v − q·v'| ≤ |v − v'| for a unit query; 1e-4 covers float accumulation in both dots.
            errorBounds.append(error.squareRoot() * 1.001 + 1e-4)
            rowIDs.append(row[0])
            let file: String = row[1], language: String = row[2]
            fileOfRow.append(Self.intern(file, &fileIndex, &files))
            languageOfRow.append(Self.intern(language, &languageIndex, &languages))
          }
        }
      }
    }
    self.rowIDs = rowIDs
    self.values = values
    self.errorBounds = errorBounds
    self.fileOfRow = fileOfRow
    self.files = files
    self.languageOfRow = languageOfRow
    self.languages = languages
  }

  /// A matrix from its parts (read back from a `MatrixFile`).
  init(
    generation: Int64, dimension: Int, rowIDs: [Int64], values: BFloat16Rows, errorBounds: [Float],
    fileOfRow: [Int32], files: [String], languageOfRow: [Int32], languages: [String]
  ) {
    self.generation = generation
    self.dimension = dimension
    self.rowIDs = rowIDs
    self.values = values
    self.errorBounds = errorBounds
    self.fileOfRow = fileOfRow
    self.files = files
    self.languageOfRow = languageOfRow
    self.languages = languages
  }

  /// Rounds to the nearest bfloat16 (ties to even), as its 16 bits.
  @inline(__always)
  static func bfloat16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    guard value.isFinite else { return UInt16(truncatingIfNeeded: bits >> 16) }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
  }

  private static func intern(_ value: String, _ index: inout [String: Int32], _ values: inout [String]) -> Int32 {
    if let i = index[value] { return i }
    let i = Int32(values.count)
    values.append(value)
    index[value] = i
    return i
  }

  /// Scales `n` floats at `v` to unit length (a zero vector stays zero).
  static func normalise(_ v: UnsafeMutablePointer<Float>, _ n: Int) {
    let norm = dot(v, v, n).squareRoot()
    guard norm > 0, norm.isFinite else { return }
    let scale = 1 / norm
    for i in 0..<n { v[i] *= scale }
  }

  /// Which rows a filter lets through: a file mask and/or one language.
  struct RowFilter {
    var allowedFiles: [Bool]?
    var language: Int32?
    /// True when no row can pass.
    var excludesAll = false
  }

  func rowFilter(pathGlob: PathGlob?, language: String?) -> RowFilter? {
    guard pathGlob != nil || language != nil else { return nil }
    var filter = RowFilter()
    if let pathGlob {
      let mask = globMasks.withLock { $0[pathGlob.pattern] } ?? files.map(pathGlob.matches)
      globMasks.withLock { masks in
        if masks.count >= 16 { masks.removeAll() }
        masks[pathGlob.pattern] = mask
      }
      filter.allowedFiles = mask
      if !mask.contains(true) { filter.excludesAll = true }
    }
    if let language {
      if let i = languages.firstIndex(of: language) { filter.language = Int32(i) } else { filter.excludesAll = true }
    }
    return filter
  }

  /// `query` scaled to unit length (a zero query stays zero).
  static func unit(_ query: [Float]) -> [Float] {
    var unit = query
    unit.withUnsafeMutableBufferPointer { normalise($0.baseAddress!, $0.count) }
    return unit
  }

  /// Rows (indices) that may be among the `limit` most similar to `query`: a superset of the exact
  /// top `limit` (among rows passing `filter`), usually a little larger than `limit`.
  func candidates(for query: [Float], limit: Int, filter: RowFilter?) -> [Int] {
    precondition(query.count == dimension)
    guard limit > 0, count > 0, dimension > 0, filter?.excludesAll != true else { return [] }
    let q = Self.unit(query)
    // Slices on both cores: the scan is bound by memory bandwidth, which one core does not saturate.
    let slices = count * dimension >= 1 << 20 ? min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 1
    let perSlice = (count + slices - 1) / slices
    let scans = Locked<[SliceScan?]>(Array(repeating: nil, count: slices))
    DispatchQueue.concurrentPerform(iterations: slices) { slice in
      let range = (slice * perSlice)..<min(count, (slice + 1) * perSlice)
      let scan = scan(query: q, rows: range, limit: limit, filter: filter)
      scans.withLock { $0[slice] = scan }
    }
    let done = scans.withLock { $0 }.compactMap { $0 }
    // The k-th best lower bound: no row whose upper bound is below it can be in the top k.
    var lower = TopK(limit: limit)
    for scan in done {
      for i in scan.lower.rows.indices { lower.offer(scan.lower.scores[i], scan.lower.rows[i]) }
    }
    let threshold = lower.isFull ? lower.weakest : -Float.infinity
    var candidates: [Int] = []
    for scan in done {
      for (offset, score) in scan.approximate.enumerated() where score != -.infinity {
        let row = scan.start + offset
        if score + errorBounds[row] >= threshold { candidates.append(row) }
      }
    }
    return candidates
  }

  private struct SliceScan: Sendable {
    var start: Int
    /// Approximate score per row of the slice; -infinity for rows the filter excludes.
    var approximate: [Float]
    /// Best lower bounds (approximate − error bound) in the slice.
    var lower: TopK
  }

  private func scan(query: [Float], rows: Range<Int>, limit: Int, filter: RowFilter?) -> SliceScan {
    var lower = TopK(limit: limit)
    var approximate = [Float](repeating: -.infinity, count: rows.count)
    let d = dimension
    query.withUnsafeBufferPointer { q in
      do {
        let mp = values.pointer
        errorBounds.withUnsafeBufferPointer { bounds in
          let qp = q.baseAddress!
          for r in rows {
            if let filter {
              if let allowed = filter.allowedFiles, !allowed[Int(fileOfRow[r])] { continue }
              if let language = filter.language, languageOfRow[r] != language { continue }
            }
            let score = Self.dot(qp, bfloat16: mp + r * d, d)
            approximate[r - rows.lowerBound] = score
            lower.offer(score - bounds[r], Int32(r))
          }
        }
      }
    }
    return SliceScan(start: rows.lowerBound, approximate: approximate, lower: lower)
  }

  /// Dot product of `n` floats with `n` bfloat16 values, 16 lanes at a time.
  @inline(__always)
  static func dot(_ a: UnsafePointer<Float>, bfloat16 b: UnsafePointer<UInt16>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
      let h0 = rb.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
      let h1 = rb.loadUnaligned(fromByteOffset: (i + 8) * 2, as: SIMD8<UInt16>.self)
      let f0 = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h0) &<< 16, to: SIMD8<Float>.self)
      let f1 = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h1) &<< 16, to: SIMD8<Float>.self)
      acc0 += f0 * ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      acc1 += f1 * ra.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
      i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < n {
      sum += a[i] * Float(bitPattern: UInt32(b[i]) << 16)
      i += 1
    }
    return sum
  }

  /// Exact cosine of a unit `query` (`n` floats) with a stored float32 vector blob.
  static func cosine(unitQuery query: UnsafePointer<Float>, _ blob: Data, scratch: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    VectorBlob.decode(blob, into: scratch, count: n)
    let norm = dot(scratch, scratch, n).squareRoot()
    guard norm > 0, norm.isFinite else { return 0 }
    return dot(query, scratch, n) / norm
  }

  /// Dot product of `n` floats, 32 lanes at a time.
  @inline(__always)
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= n {
      acc0 +=
        ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
      acc1 +=
        ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
      i += 32
    }
    if i + 16 <= n {
      acc0 +=
        ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
      i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < n {
      sum += a[i] * b[i]
      i += 1
    }
    return sum
  }
}

/// The `limit` best (score, row) pairs seen so far: a min-heap, so the weakest is at the root.
struct TopK: Sendable {
  let limit: Int
  private(set) var scores: [Float] = []
  private(set) var rows: [Int32] = []

  var isFull: Bool { scores.count == limit }
  /// The weakest score kept (the root); only meaningful when not empty.
  var weakest: Float { scores[0] }

  init(limit: Int) {
    self.limit = limit
    scores.reserveCapacity(limit)
    rows.reserveCapacity(limit)
  }

  @inline(__always)
  mutating func offer(_ score: Float, _ row: Int32) {
    if scores.count < limit {
      scores.append(score)
      rows.append(row)
      siftUp(scores.count - 1)
    } else if score > scores[0] {
      scores[0] = score
      rows[0] = row
      siftDown(0)
    }
  }

  /// Best first; ties by row order, so results are deterministic.
  func sorted() -> [(row: Int, score: Float)] {
    zip(rows, scores).map { (row: Int($0.0), score: $0.1) }
      .sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
  }

  private func less(_ i: Int, _ j: Int) -> Bool {
    scores[i] != scores[j] ? scores[i] < scores[j] : rows[i] > rows[j]
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard less(child, parent) else { return }
      scores.swapAt(child, parent)
      rows.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    while true {
      let left = 2 * parent + 1, right = left + 1
      var smallest = parent
      if left < scores.count && less(left, smallest) { smallest = left }
      if right < scores.count && less(right, smallest) { smallest = right }
      guard smallest != parent else { return }
      scores.swapAt(parent, smallest)
      rows.swapAt(parent, smallest)
      parent = smallest
    }
  }
}
