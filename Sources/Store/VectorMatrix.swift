import Dispatch
import Foundation
import GRDB

/// Every vector of one collection in one row-major float32 buffer, rows scaled to unit length, for
/// exact cosine search. Immutable: a write to the collection makes a new one (see `generation`).
final class VectorMatrix: Sendable {
  /// The collection's write generation this matrix was loaded at.
  let generation: Int64
  let dimension: Int
  /// `points.rowid` of each row.
  let rowIDs: [Int64]
  /// `rowIDs.count * dimension` floats.
  let values: [Float]
  /// Index into `files` of each row's `file_path`.
  let fileOfRow: [Int32]
  let files: [String]
  /// Index into `languages` of each row's `language`.
  let languageOfRow: [Int32]
  let languages: [String]

  var count: Int { rowIDs.count }

  /// Reads every stored vector of `dimension` floats (rows of another length are skipped).
  init(loadingFrom db: Database, generation: Int64, dimension: Int) throws {
    self.generation = generation
    self.dimension = dimension
    let expected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM points WHERE vector IS NOT NULL") ?? 0
    var rowIDs: [Int64] = []
    rowIDs.reserveCapacity(expected)
    var values = [Float](repeating: 0, count: expected * dimension)
    var fileOfRow: [Int32] = [], languageOfRow: [Int32] = []
    fileOfRow.reserveCapacity(expected)
    languageOfRow.reserveCapacity(expected)
    var files: [String] = [], languages: [String] = []
    var fileIndex: [String: Int32] = [:], languageIndex: [String: Int32] = [:]
    if dimension > 0 {
      let rows = try Row.fetchCursor(
        db, sql: "SELECT rowid, file_path, language, vector FROM points WHERE vector IS NOT NULL ORDER BY rowid")
      try values.withUnsafeMutableBufferPointer { buffer in
        while let row = try rows.next(), rowIDs.count < expected {
          let target = buffer.baseAddress! + rowIDs.count * dimension
          let decoded = try row.withUnsafeData(atIndex: 3) { blob -> Bool in
            guard let blob, blob.count == dimension * 4 else { return false }
            VectorBlob.decode(blob, into: target, count: dimension)
            return true
          }
          guard decoded else { continue }
          Self.normalise(target, dimension)
          rowIDs.append(row[0])
          let file: String = row[1], language: String = row[2]
          fileOfRow.append(Self.intern(file, &fileIndex, &files))
          languageOfRow.append(Self.intern(language, &languageIndex, &languages))
        }
      }
    }
    values.removeLast(values.count - rowIDs.count * dimension)
    self.rowIDs = rowIDs
    self.values = values
    self.fileOfRow = fileOfRow
    self.files = files
    self.languageOfRow = languageOfRow
    self.languages = languages
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
      let mask = files.map(pathGlob.matches)
      filter.allowedFiles = mask
      if !mask.contains(true) { filter.excludesAll = true }
    }
    if let language {
      if let i = languages.firstIndex(of: language) { filter.language = Int32(i) } else { filter.excludesAll = true }
    }
    return filter
  }

  /// The `limit` rows most similar to `query` (any length > 0; it is normalised here), best first.
  func nearest(to query: [Float], limit: Int, filter: RowFilter?) -> [(row: Int, score: Float)] {
    precondition(query.count == dimension)
    guard limit > 0, count > 0, filter?.excludesAll != true else { return [] }
    var normalised = query
    normalised.withUnsafeMutableBufferPointer { Self.normalise($0.baseAddress!, dimension) }
    let q = normalised
    // Two slices on two cores: the scan is bound by memory bandwidth, which one core does not saturate.
    let slices = count >= 20_000 ? min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) : 1
    let perSlice = (count + slices - 1) / slices
    let partial = Locked<[TopK?]>(Array(repeating: nil, count: slices))
    DispatchQueue.concurrentPerform(iterations: slices) { slice in
      let range = (slice * perSlice)..<min(count, (slice + 1) * perSlice)
      let top = scan(query: q, rows: range, limit: limit, filter: filter)
      partial.withLock { $0[slice] = top }
    }
    var merged = TopK(limit: limit)
    for case let top? in partial.withLock({ $0 }) {
      for i in top.rows.indices { merged.offer(top.scores[i], top.rows[i]) }
    }
    return merged.sorted()
  }

  private func scan(query: [Float], rows: Range<Int>, limit: Int, filter: RowFilter?) -> TopK {
    var top = TopK(limit: limit)
    let d = dimension
    query.withUnsafeBufferPointer { q in
      values.withUnsafeBufferPointer { m in
        let qp = q.baseAddress!, mp = m.baseAddress!
        if let filter {
          for r in rows {
            if let allowed = filter.allowedFiles, !allowed[Int(fileOfRow[r])] { continue }
            if let language = filter.language, languageOfRow[r] != language { continue }
            top.offer(Self.dot(qp, mp + r * d, d), Int32(r))
          }
        } else {
          for r in rows { top.offer(Self.dot(qp, mp + r * d, d), Int32(r)) }
        }
      }
    }
    return top
  }

  /// Dot product of `n` floats, 32 lanes at a time.
  @inline(__always)
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var i = 0
    while i + 32 <= n {
      acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
      acc1 += ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
      i += 32
    }
    if i + 16 <= n {
      acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
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
