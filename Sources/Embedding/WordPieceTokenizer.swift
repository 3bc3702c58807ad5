import Foundation
import GitRAGCore

/// The uncased BERT WordPiece tokenizer, token for token what Hugging Face's `BertTokenizerFast`
/// gives for all-MiniLM-L6-v2: BertNormalizer (clean text, spaces around CJK ideographs, NFD
/// accent stripping, lowercase), BertPreTokenizer (whitespace and punctuation), greedy
/// longest-match WordPiece with `##` continuations, then `[CLS] … [SEP]` and truncation.
public struct WordPieceTokenizer: Sendable {
  /// Token ids by token text.
  public let vocabulary: [String: Int32]
  /// Most tokens one encoded text has, `[CLS]` and `[SEP]` included.
  public let maxLength: Int
  public let classifierID: Int32
  public let separatorID: Int32
  public let unknownID: Int32
  /// Words longer than this (in Unicode scalars) become `[UNK]` whole.
  public let maxWordLength = 100
  /// UTF-8 length of the longest vocabulary entry (with its `##`).
  private let longestToken: Int

  /// A tokenizer over `tokens`, where a token's id is its index (the order of `vocab.txt`).
  public init(tokens: [String], maxLength: Int = 256) throws(ModelFileError) {
    var vocabulary = [String: Int32](minimumCapacity: tokens.count)
    for (index, token) in tokens.enumerated() where vocabulary[token] == nil { vocabulary[token] = Int32(index) }
    try self.init(vocabulary: vocabulary, maxLength: maxLength)
  }

  public init(vocabulary: [String: Int32], maxLength: Int = 256) throws(ModelFileError) {
    guard let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"], let unk = vocabulary["[UNK]"] else {
      throw .malformed(path: "vocabulary", reason: "it lacks one of [CLS], [SEP], [UNK]")
    }
    self.vocabulary = vocabulary
    self.maxLength = max(2, maxLength)
    classifierID = cls
    separatorID = sep
    unknownID = unk
    longestToken = vocabulary.keys.map(\.utf8.count).max() ?? 0
  }

  /// Loads `vocab.txt` from `directory`, or the WordPiece vocabulary inside `tokenizer.json`.
  public static func load(modelDirectory directory: URL, maxLength: Int = 256) throws(ModelFileError) -> WordPieceTokenizer {
    let vocab = directory.appendingPathComponent("vocab.txt")
    if FileManager.default.fileExists(atPath: vocab.path) {
      let text: String
      do { text = try String(contentsOf: vocab, encoding: .utf8) } catch {
        throw .unreadable(path: vocab.path, reason: error.localizedDescription)
      }
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
      if lines.last == "" { lines.removeLast() }
      do { return try WordPieceTokenizer(tokens: lines, maxLength: maxLength) } catch {
        throw .malformed(path: vocab.path, reason: "it lacks one of [CLS], [SEP], [UNK]")
      }
    }
    let json = directory.appendingPathComponent("tokenizer.json")
    guard FileManager.default.fileExists(atPath: json.path) else {
      throw .missingFile(
        path: vocab.path, hint: "Neither vocab.txt nor tokenizer.json is there; download the model again (git rag model pull).")
    }
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) } catch {
      throw .malformed(path: json.path, reason: "not valid JSON")
    }
    guard let model = (object as? [String: Any])?["model"] as? [String: Any], let vocabulary = model["vocab"] as? [String: Int] else {
      throw .malformed(path: json.path, reason: "no model.vocab object")
    }
    do { return try WordPieceTokenizer(vocabulary: vocabulary.mapValues { Int32($0) }, maxLength: maxLength) } catch {
      throw .malformed(path: json.path, reason: "its vocabulary lacks one of [CLS], [SEP], [UNK]")
    }
  }

  /// Token ids of `text` as the model sees them: `[CLS]`, at most `maxLength - 2` pieces, `[SEP]`.
  public func encode(_ text: String) -> [Int32] {
    var ids: [Int32] = [classifierID]
    forEachPiece(of: text, limit: maxLength - 2) { ids.append($0) }
    ids.append(separatorID)
    return ids
  }

  /// Tokens `text` would have without truncation, `[CLS]` and `[SEP]` included.
  public func tokenCount(_ text: String) -> Int {
    var count = 2
    forEachPiece(of: text, limit: .max) { _ in count += 1 }
    return count
  }

  /// Word pieces of `text` (no special tokens, no truncation), as token strings; for inspection.
  public func pieces(_ text: String) -> [String] {
    var names = [Int32: String](minimumCapacity: vocabulary.count)
    for (token, id) in vocabulary { names[id] = token }
    var result: [String] = []
    forEachPiece(of: text, limit: .max) { result.append(names[$0] ?? "[UNK]") }
    return result
  }

  // MARK: - Pipeline

  /// Normalises, pre-tokenises and WordPiece-splits `text` one whitespace-separated segment at a
  /// time, so a huge text stops costing anything once `limit` pieces are out.
  private func forEachPiece(of text: String, limit: Int, _ body: (Int32) -> Void) {
    guard limit > 0 else { return }
    var emitted = 0
    var segment: [Unicode.Scalar] = []
    var segmentIsASCII = true
    var word: [Unicode.Scalar] = []
    var cache = ScalarCache()
    // Returns false once `limit` pieces were emitted.
    func emitWord() -> Bool {
      defer { word.removeAll(keepingCapacity: true) }
      guard !word.isEmpty else { return true }
      var open = true
      wordPieces(word) { id in
        guard open else { return }
        body(id)
        emitted += 1
        if emitted >= limit { open = false }
      }
      return open
    }
    func emitSegment() -> Bool {
      defer { segment.removeAll(keepingCapacity: true); segmentIsASCII = true }
      guard !segment.isEmpty else { return true }
      if !segmentIsASCII { segment = Self.stripAccentsAndLowercase(segment, cache: &cache) }
      for scalar in segment {
        if Self.isWhitespace(scalar) {
          guard emitWord() else { return false }
        } else if Self.isPunctuation(scalar) {
          guard emitWord() else { return false }
          word.append(scalar)
          guard emitWord() else { return false }
        } else {
          word.append(scalar)
        }
      }
      return emitWord()
    }
    // Clean text and isolate CJK ideographs; a space ends a segment (NFD never crosses one).
    for scalar in text.unicodeScalars {
      let value = scalar.value
      if value < 0x80 {
        switch value {
        case 0x09, 0x0A, 0x0D, 0x20: guard emitSegment() else { return }
        case 0..<0x20, 0x7F: continue
        case 0x41...0x5A: segment.append(Unicode.Scalar(value + 0x20)!)
        default: segment.append(scalar)
        }
      } else if value == 0xFFFD || Self.isControl(scalar) {
        continue
      } else if scalar.properties.isWhitespace {
        guard emitSegment() else { return }
      } else if Self.isChineseCharacter(value) {
        guard emitSegment() else { return }
        segment.append(scalar)
        segmentIsASCII = false
        guard emitSegment() else { return }
      } else {
        segment.append(scalar)
        segmentIsASCII = false
      }
    }
    _ = emitSegment()
  }

  /// Greedy longest-match WordPiece; a word with any unknown remainder is one `[UNK]`.
  private func wordPieces(_ word: [Unicode.Scalar], _ body: (Int32) -> Void) {
    if word.count > maxWordLength { body(unknownID); return }
    // Candidates are looked up as UTF-8: the word's bytes from scalar `start` to `end`, after "##"
    // unless `start` is 0.
    var bytes: [UInt8] = []
    var boundaries: [Int] = [0]
    for scalar in word {
      UTF8.encode(scalar) { bytes.append($0) }
      boundaries.append(bytes.count)
    }
    var continuation: [UInt8] = [0x23, 0x23]
    var ids: [Int32] = []
    var start = 0
    var found = true
    while found, start < word.count {
      var end = word.count
      // No vocabulary entry is longer than `longestToken` bytes: skip candidates that are.
      while end > start, boundaries[end] - boundaries[start] > longestToken { end -= 1 }
      var id: Int32?
      while end > start {
        let piece = bytes[boundaries[start]..<boundaries[end]]
        let candidate: String
        if start == 0 {
          candidate = String(decoding: piece, as: UTF8.self)
        } else {
          continuation.removeSubrange(2...)
          continuation.append(contentsOf: piece)
          candidate = String(decoding: continuation, as: UTF8.self)
        }
        if let match = vocabulary[candidate] { id = match; break }
        end -= 1
      }
      if let id { ids.append(id); start = end } else { found = false }
    }
    if found { ids.forEach(body) } else { body(unknownID) }
  }

  /// Per-scalar results of the Unicode lookups `stripAccentsAndLowercase` needs, for one text.
  struct ScalarCache {
    var decompositions: [UInt32: [Unicode.Scalar]] = [:]
    var lowercase: [UInt32: [Unicode.Scalar]] = [:]

    /// Full canonical decomposition of one scalar.
    mutating func decomposition(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
      if let known = decompositions[scalar.value] { return known }
      let result = Array(String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars)
      decompositions[scalar.value] = result
      return result
    }

    mutating func lowercased(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
      if let known = lowercase[scalar.value] { return known }
      let properties = scalar.properties
      let result = properties.changesWhenLowercased ? Array(properties.lowercaseMapping.unicodeScalars) : [scalar]
      lowercase[scalar.value] = result
      return result
    }
  }

  /// Strip accents (NFD, drop nonspacing marks), then lowercase, as BertNormalizer does. NFD is
  /// each scalar's canonical decomposition followed by the canonical ordering of combining marks.
  static func stripAccentsAndLowercase(_ scalars: [Unicode.Scalar], cache: inout ScalarCache) -> [Unicode.Scalar] {
    var decomposed: [Unicode.Scalar] = []
    decomposed.reserveCapacity(scalars.count + 4)
    var hasMarks = false
    for scalar in scalars {
      if scalar.value < 0xC0 {
        decomposed.append(scalar)
      } else {
        for part in cache.decomposition(scalar) {
          if part.properties.canonicalCombiningClass != .notReordered { hasMarks = true }
          decomposed.append(part)
        }
      }
    }
    if hasMarks { canonicallyOrder(&decomposed) }
    var result: [Unicode.Scalar] = []
    result.reserveCapacity(decomposed.count)
    for scalar in decomposed {
      if scalar.value < 0x80 {
        result.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 0x20)! : scalar)
      } else if scalar.properties.generalCategory != .nonspacingMark {
        result.append(contentsOf: cache.lowercased(scalar))
      }
    }
    return result
  }

  /// Stable sort of every run of non-starters by combining class (Unicode canonical ordering).
  static func canonicallyOrder(_ scalars: inout [Unicode.Scalar]) {
    var index = 0
    while index < scalars.count {
      guard scalars[index].properties.canonicalCombiningClass != .notReordered else { index += 1; continue }
      var end = index
      while end < scalars.count, scalars[end].properties.canonicalCombiningClass != .notReordered { end += 1 }
      if end - index > 1 {
        let run = scalars[index..<end].enumerated().sorted {
          let (a, b) = ($0.element.properties.canonicalCombiningClass.rawValue, $1.element.properties.canonicalCombiningClass.rawValue)
          return a != b ? a < b : $0.offset < $1.offset
        }
        scalars.replaceSubrange(index..<end, with: run.map(\.element))
      }
      index = end
    }
  }

  /// Cc, Cf, Cs, Co, Cn except tab, newline and carriage return (which count as whitespace).
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09, 0x0A, 0x0D: return false
    default:
      switch scalar.properties.generalCategory {
      case .control, .format, .surrogate, .privateUse, .unassigned: return true
      default: return false
      }
    }
  }

  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x20, 0x09, 0x0A, 0x0D: return true
    case 0..<0x80: return false
    default: return scalar.properties.isWhitespace
    }
  }

  /// ASCII punctuation (33–47, 58–64, 91–96, 123–126) and every Unicode P* category.
  static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 33...47, 58...64, 91...96, 123...126: return true
    case 0..<0x80: return false
    default:
      switch scalar.properties.generalCategory {
      case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
        .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return true
      default: return false
      }
    }
  }

  /// The CJK Unified Ideographs blocks BERT isolates (not kana or hangul).
  static func isChineseCharacter(_ value: UInt32) -> Bool {
    switch value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
