import Foundation
import GitRAGCore

/// Size limits and overlap for cutting a file into chunks.
public struct ChunkingOptions: Sendable {
  /// Largest chunk, in characters (Unicode scalars), separators included.
  public var maxCharacters: Int = 1500
  /// Lines repeated at the start of a chunk when a long stretch is cut by lines.
  public var overlapLines: Int = 2
  /// Largest chunk in tokens, honoured when `tokenCounter` is set too.
  public var maxTokens: Int? = nil
  /// Counts the tokens of a text the way the embedder will.
  public var tokenCounter: (@Sendable (String) -> Int)? = nil

  public init(
    maxCharacters: Int = 1500, overlapLines: Int = 2, maxTokens: Int? = nil,
    tokenCounter: (@Sendable (String) -> Int)? = nil
  ) {
    self.maxCharacters = maxCharacters
    self.overlapLines = overlapLines
    self.maxTokens = maxTokens
    self.tokenCounter = tokenCounter
  }
}

/// Cuts a file's text into chunks along its structure.
///
/// Every chunk's content is exactly the file's lines `startLine...endLine` joined with `"\n"`
/// (line endings normalised, a trailing `"\r"` dropped), except when one line alone is over the
/// budget: then it is cut by characters into pieces that all carry that line's number and that,
/// concatenated in order, give the line back. Chunks cover every non-blank line; they overlap only
/// where a long stretch is cut by lines with `overlapLines`.
public enum Chunker {
  /// Changes whenever the chunks produced for the same input change; stored in collection metadata.
  public static let version = "chunker-2"

  /// The chunks of `text`, the content of the file at `path`, in file order.
  public static func chunk(path: String, text: String, options: ChunkingOptions = .init()) -> [Chunk] {
    let document = SourceDocument(text: text, options: options)
    guard document.hasContent else { return [] }
    let language = LanguageDetector.language(path: path, firstLine: document.lineCount > 0 ? document.line(0) : nil)
    let structure = LanguageRegistry.structure(for: language)
    var cutter = ChunkCutter(document: document, structure: structure)
    for section in structure.sections(document) { cutter.fit(section, depth: 0) }
    let pieces = cutter.mergedPieces()
    var chunks: [Chunk] = []
    chunks.reserveCapacity(pieces.count)
    for piece in pieces { cutter.emit(piece, language: language, into: &chunks) }
    return chunks
  }
}

// MARK: - The document as lines

/// A file's text as lines (line endings stripped) with per-line sizes, for range arithmetic in O(1).
struct SourceDocument {
  let options: ChunkingOptions
  let bytes: [UInt8]
  /// Byte range of each line in `bytes`, without its line ending.
  let byteRanges: [Range<Int>]
  let blank: [Bool]
  private let characterPrefix: [Int]
  private let tokenPrefix: [Int]?
  let maxCharacters: Int
  let minCharacters: Int
  let maxTokens: Int?

  init(text: String, options: ChunkingOptions) {
    self.options = options
    let bytes = Array(text.utf8)
    var ranges: [Range<Int>] = []
    bytes.withUnsafeBufferPointer { buffer in
      var lineStart = 0
      func addLine(_ end: Int) {
        ranges.append(lineStart..<(end > lineStart && buffer[end - 1] == 0x0D ? end - 1 : end))
      }
      for offset in 0..<buffer.count where buffer[offset] == 0x0A {
        addLine(offset)
        lineStart = offset + 1
      }
      if lineStart < buffer.count { addLine(buffer.count) }
    }
    var blank = [Bool](repeating: true, count: ranges.count)
    var characterPrefix = [Int](repeating: 0, count: ranges.count + 1)
    for (i, range) in ranges.enumerated() {
      var scalars = 0
      var isBlank = true
      for j in range {
        let byte = bytes[j]
        if byte & 0xC0 != 0x80 { scalars += 1 }
        if isBlank, !(byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0C || byte == 0x0B) { isBlank = false }
      }
      blank[i] = isBlank
      characterPrefix[i + 1] = characterPrefix[i] + scalars
    }
    if let maxTokens = options.maxTokens, let counter = options.tokenCounter {
      var prefix = [Int](repeating: 0, count: ranges.count + 1)
      for (i, range) in ranges.enumerated() {
        prefix[i + 1] = prefix[i] + (blank[i] ? 0 : counter(String(decoding: bytes[range], as: UTF8.self)))
      }
      self.tokenPrefix = prefix
      self.maxTokens = max(1, maxTokens)
    } else {
      self.tokenPrefix = nil
      self.maxTokens = nil
    }
    self.bytes = bytes
    self.byteRanges = ranges
    self.blank = blank
    self.characterPrefix = characterPrefix
    self.maxCharacters = max(16, options.maxCharacters)
    self.minCharacters = maxCharacters / 4
  }

  var hasContent: Bool { blank.contains(false) }

  var lineCount: Int { byteRanges.count }

  /// The text of one line (a new string each call: keep it while using its indices).
  func line(_ index: Int) -> Substring { Substring(String(decoding: bytes[byteRanges[index]], as: UTF8.self)) }

  /// Characters of lines `range` joined with newlines.
  func characters(_ range: Range<Int>) -> Int {
    characterPrefix[range.upperBound] - characterPrefix[range.lowerBound] + max(0, range.count - 1)
  }

  /// Estimated tokens of lines `range` (the sum over lines); 0 without a token budget.
  func tokens(_ range: Range<Int>) -> Int {
    guard let tokenPrefix else { return 0 }
    return tokenPrefix[range.upperBound] - tokenPrefix[range.lowerBound]
  }

  func fits(_ range: Range<Int>) -> Bool {
    if characters(range) > maxCharacters { return false }
    if let maxTokens, tokens(range) > maxTokens { return false }
    return true
  }

  /// `range` without leading and trailing blank lines (empty when all blank).
  func trimmed(_ range: Range<Int>) -> Range<Int> {
    var lower = range.lowerBound
    var upper = range.upperBound
    while lower < upper, blank[lower] { lower += 1 }
    while upper > lower, blank[upper - 1] { upper -= 1 }
    return lower..<upper
  }

  /// Lines `range` joined with `"\n"`, built from the bytes (much faster than joining substrings).
  func content(_ range: Range<Int>) -> String {
    guard let first = range.first else { return "" }
    var out: [UInt8] = []
    out.reserveCapacity(byteRanges[range.upperBound - 1].upperBound - byteRanges[first].lowerBound)
    for line in range {
      if line != first { out.append(0x0A) }
      out.append(contentsOf: bytes[byteRanges[line]])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The line's bytes, for scanners.
  func byteSlice(_ line: Int) -> ArraySlice<UInt8> { bytes[byteRanges[line]] }

  /// Offset of the first non-blank byte of `line` from its start, counting a tab as 8 columns.
  func indent(_ line: Int) -> Int {
    var columns = 0
    for byte in byteSlice(line) {
      if byte == 0x20 { columns += 1 } else if byte == 0x09 { columns += 8 - columns % 8 } else { break }
    }
    return columns
  }
}

// MARK: - Sections and pieces

/// A stretch of lines a language cuts out, with the symbol it belongs to.
struct Section {
  var lines: Range<Int>
  var symbol: String?
  /// Language-specific nesting of the section (brace depth, indentation) for `refine`.
  var level: Int = 0
}

/// A language's view of a file's structure.
protocol Structure {
  /// Sections that together cover every line of the document, in order.
  func sections(_ document: SourceDocument) -> [Section]
  /// Smaller sections covering an oversized `section`, or nil when it has no inner structure.
  func refine(_ section: Section, _ document: SourceDocument) -> [Section]?
}

extension Structure {
  func refine(_ section: Section, _ document: SourceDocument) -> [Section]? { nil }
}

/// Sections between `boundaries` (line indices inside `range`, ascending), covering `range`.
func sections(in range: Range<Int>, boundaries: [Int], symbol: (Range<Int>) -> String?, level: Int = 0) -> [Section] {
  var result: [Section] = []
  var start = range.lowerBound
  for boundary in boundaries where boundary > start && boundary < range.upperBound {
    result.append(Section(lines: start..<boundary, symbol: symbol(start..<boundary), level: level))
    start = boundary
  }
  if start < range.upperBound {
    result.append(Section(lines: start..<range.upperBound, symbol: symbol(start..<range.upperBound), level: level))
  }
  return result
}

enum Piece {
  case lines(Range<Int>, symbol: String?)
  /// Part of one over-long line, as a range of UTF-8 offsets in it (on character boundaries).
  case fragment(line: Int, Range<Int>, symbol: String?)
}

/// Fits sections into the budget (refining, cutting by lines, then by characters) and merges small
/// neighbours.
struct ChunkCutter {
  let document: SourceDocument
  let structure: any Structure
  private(set) var pieces: [Piece] = []

  init(document: SourceDocument, structure: any Structure) {
    self.document = document
    self.structure = structure
  }

  mutating func fit(_ section: Section, depth: Int) {
    var section = section
    section.lines = document.trimmed(section.lines)
    guard !section.lines.isEmpty else { return }
    if document.fits(section.lines) {
      pieces.append(.lines(section.lines, symbol: section.symbol))
      return
    }
    if depth < 8, let parts = structure.refine(section, document), parts.count > 1 {
      for part in parts { fit(part, depth: depth + 1) }
      return
    }
    cutByLines(section.lines, symbol: section.symbol)
  }

  /// Windows of whole lines within the budget, each starting `overlapLines` before the previous
  /// one ended; a window prefers to end at a blank line in its last third.
  private mutating func cutByLines(_ range: Range<Int>, symbol: String?) {
    var start = range.lowerBound
    var previousEnd: Int? = nil
    while start < range.upperBound {
      if document.blank[start] {
        start += 1
        continue
      }
      if !document.fits(start..<start + 1) {
        cutByCharacters(line: start, symbol: symbol)
        previousEnd = nil
        start += 1
        continue
      }
      // Overlap only as far as the window still fits with at least one new line.
      var windowStart = start
      if previousEnd != nil, document.options.overlapLines > 0 {
        windowStart = max(range.lowerBound, start - document.options.overlapLines)
        while windowStart < start, !document.fits(windowStart..<start + 1) { windowStart += 1 }
      }
      var end = start + 1
      while end < range.upperBound, document.fits(windowStart..<end + 1) { end += 1 }
      if end < range.upperBound {
        let floor = start + (end - start) * 2 / 3
        var candidate = end - 1
        while candidate > floor, !document.blank[candidate] { candidate -= 1 }
        if candidate > floor, candidate > start { end = candidate }
      }
      let window = windowStart..<end
      let trimmed = document.trimmed(window)
      if !trimmed.isEmpty { pieces.append(.lines(trimmed, symbol: symbol)) }
      previousEnd = end
      start = end
    }
  }

  private mutating func cutByCharacters(line: Int, symbol: String?) {
    let text = document.line(line)
    for range in characterWindows(text, limit: document.maxCharacters) {
      appendFragment(line: line, text: text, range: range, symbol: symbol)
    }
  }

  private mutating func appendFragment(line: Int, text: Substring, range: Range<String.Index>, symbol: String?) {
    if let maxTokens = document.maxTokens, let counter = document.options.tokenCounter,
      counter(String(text[range])) > maxTokens
    {
      let halves = splitInHalf(text, range)
      if halves.count == 2 {
        for half in halves { appendFragment(line: line, text: text, range: half, symbol: symbol) }
        return
      }
    }
    pieces.append(.fragment(line: line, text.utf8Offsets(range), symbol: symbol))
  }

  /// Pieces with small neighbours merged: two adjacent line pieces become one when together they
  /// fit and either they share a symbol or one of them is under a quarter of the budget.
  func mergedPieces() -> [Piece] {
    var result: [Piece] = []
    result.reserveCapacity(pieces.count)
    for piece in pieces {
      if case .lines(let next, let nextSymbol) = piece, let last = result.last, case .lines(let current, let symbol) = last,
        next.lowerBound >= current.upperBound
      {
        let combined = current.lowerBound..<next.upperBound
        let small = document.characters(current) < document.minCharacters || document.characters(next) < document.minCharacters
        if small || symbol == nextSymbol, document.fits(combined) {
          result[result.count - 1] = .lines(combined, symbol: symbol ?? nextSymbol)
          continue
        }
      }
      result.append(piece)
    }
    return result
  }

  /// Appends the chunk of `piece`, cut further when the real token count is over the budget
  /// (the per-line estimate can be short of it).
  func emit(_ piece: Piece, language: String, into chunks: inout [Chunk]) {
    switch piece {
    case .lines(let range, let symbol):
      let content = document.content(range)
      if let maxTokens = document.maxTokens, let counter = document.options.tokenCounter, counter(content) > maxTokens {
        if range.count > 1 {
          let middle = range.lowerBound + range.count / 2
          for half in [range.lowerBound..<middle, middle..<range.upperBound] {
            let trimmed = document.trimmed(half)
            if !trimmed.isEmpty { emit(.lines(trimmed, symbol: symbol), language: language, into: &chunks) }
          }
          return
        }
        let text = document.line(range.lowerBound)
        let halves = splitInHalf(text, text.startIndex..<text.endIndex)
        if halves.count == 2 {
          for half in halves {
            emit(.fragment(line: range.lowerBound, text.utf8Offsets(half), symbol: symbol), language: language, into: &chunks)
          }
          return
        }
      }
      chunks.append(Chunk(content: content, startLine: range.lowerBound + 1, endLine: range.upperBound, language: language, symbol: symbol))
    case .fragment(let line, let offsets, let symbol):
      let text = document.line(line)
      let range = text.indices(utf8Offsets: offsets)
      let content = String(text[range])
      if let maxTokens = document.maxTokens, let counter = document.options.tokenCounter, counter(content) > maxTokens {
        let halves = splitInHalf(text, range)
        if halves.count == 2 {
          for half in halves { emit(.fragment(line: line, text.utf8Offsets(half), symbol: symbol), language: language, into: &chunks) }
          return
        }
      }
      chunks.append(Chunk(content: content, startLine: line + 1, endLine: line + 1, language: language, symbol: symbol))
    }
  }
}

/// Consecutive ranges of at most `limit` Unicode scalars covering `text`, cut at character
/// boundaries: after a sentence in the second half of a window if there is one, else after the last
/// whitespace in it (prose written one paragraph per line is cut between words), else where the
/// window is full.
func characterWindows(_ text: Substring, limit: Int) -> [Range<String.Index>] {
  var result: [Range<String.Index>] = []
  var start = text.startIndex
  var index = start
  var scalars = 0
  var lastSentence: String.Index? = nil
  var lastSpace: String.Index? = nil
  var previous: Character? = nil
  while index < text.endIndex {
    let character = text[index]
    let size = character.unicodeScalars.count
    if scalars + size > limit, index > start {
      let cut = lastSentence ?? lastSpace ?? index
      result.append(start..<cut)
      start = cut
      scalars = text.unicodeScalars[start..<index].count
      lastSentence = nil
      lastSpace = nil
    }
    scalars += size
    index = text.index(after: index)
    if character.isWhitespace {
      lastSpace = index
      if let previous, endsSentence(previous), scalars * 2 >= limit { lastSentence = index }
    }
    previous = character
  }
  if start < text.endIndex { result.append(start..<text.endIndex) }
  return result
}

private func endsSentence(_ character: Character) -> Bool {
  character == "." || character == "!" || character == "?" || character == "\u{3002}"
}

/// `range` of `text` cut in two near its middle: after the sentence end closest to the middle (within
/// the middle half), else after the whitespace closest to it, else at the middle character; `[range]`
/// when it is a single character.
func splitInHalf(_ text: Substring, _ range: Range<String.Index>) -> [Range<String.Index>] {
  let characters = Array(text[range].indices)
  let count = characters.count
  guard count > 1 else { return [range] }
  let middle = count / 2
  var bestSentence: Int? = nil
  var bestSpace: Int? = nil
  for offset in count / 4..<max(count / 4 + 1, count * 3 / 4) where offset > 0 && offset < count {
    guard text[characters[offset - 1]].isWhitespace else { continue }
    if abs(offset - middle) < abs((bestSpace ?? .max / 2) - middle) { bestSpace = offset }
    if offset >= 2, endsSentence(text[characters[offset - 2]]), abs(offset - middle) < abs((bestSentence ?? .max / 2) - middle) {
      bestSentence = offset
    }
  }
  let cut = characters[bestSentence ?? bestSpace ?? middle]
  return [range.lowerBound..<cut, cut..<range.upperBound]
}

extension Substring {
  func utf8Offsets(_ range: Range<String.Index>) -> Range<Int> {
    utf8.distance(from: startIndex, to: range.lowerBound)..<utf8.distance(from: startIndex, to: range.upperBound)
  }

  func indices(utf8Offsets offsets: Range<Int>) -> Range<String.Index> {
    utf8.index(startIndex, offsetBy: offsets.lowerBound)..<utf8.index(startIndex, offsetBy: offsets.upperBound)
  }
}
