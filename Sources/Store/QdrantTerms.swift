import Foundation
import GitRAGCore

/// Keyword search on Qdrant: `CodeTokenizer` terms as sparse vectors, ranked by Qdrant's IDF
/// modifier, so Qdrant and the embedded store rank the same terms.
enum QdrantTerms {
  /// A term's sparse index: FNV-1a (32-bit) of its UTF-8 bytes. Stable across runs and machines;
  /// changing it would orphan every sparse vector already stored.
  static func index(_ term: String) -> UInt32 {
    var hash: UInt32 = 0x811c_9dc5
    for byte in term.utf8 {
      hash ^= UInt32(byte)
      hash = hash &* 0x0100_0193
    }
    return hash
  }

  // BM25's term-frequency saturation, applied at index time because Qdrant's `idf` modifier
  // supplies only the IDF half. Length is normalised against a fixed average (Qdrant's own bm25
  // models do the same) since the collection's true average is unknown when a chunk is written.
  static let k1: Float = 1.2
  static let b: Float = 0.75
  static let averageLength: Float = 256

  /// The document vector of a chunk: content, symbol and path terms, as the embedded store's
  /// FTS columns index them.
  static func document(_ payload: ChunkPayload) -> QdrantSparseVector? {
    var terms = CodeTokenizer.terms(payload.content)
    if let symbol = payload.symbol { terms += CodeTokenizer.terms(symbol) }
    terms += CodeTokenizer.terms(payload.filePath)
    guard !terms.isEmpty else { return nil }
    var frequencies: [UInt32: Float] = [:]
    for term in terms { frequencies[index(term), default: 0] += 1 }
    let length = Float(terms.count)
    let norm = k1 * (1 - b + b * length / averageLength)
    return sparse(frequencies.mapValues { tf in tf * (k1 + 1) / (tf + norm) })
  }

  /// The query vector of a keyword query: each term's weight at its index.
  static func query(_ query: KeywordQuery) -> QdrantSparseVector? {
    var weights: [UInt32: Float] = [:]
    for (term, weight) in query.terms where weight > 0 { weights[index(term), default: 0] += Float(weight) }
    return weights.isEmpty ? nil : sparse(weights)
  }

  private static func sparse(_ weights: [UInt32: Float]) -> QdrantSparseVector {
    let indices = weights.keys.sorted()
    return QdrantSparseVector(indices: indices, values: indices.map { weights[$0]! })
  }
}

extension QdrantStore {
  /// A path glob as `git rag search --path` takes it: `*` and `?` stay within one path segment,
  /// `**` crosses `/` (and `**/` also matches no folder at all), `[abc]` is a character class.
  /// Qdrant has no glob match, so searches fetch more hits and filter them with this.
  struct PathGlob: Sendable {
    private enum Token: Sendable, Equatable {
      case literal(Character), any, star, globstar, globstarSlash, characterClass(Set<Character>, negated: Bool)
    }
    private let tokens: [Token]
    let pattern: String

    init(_ pattern: String) {
      self.pattern = pattern
      var tokens: [Token] = []
      let chars = Array(pattern)
      var i = 0
      while i < chars.count {
        let c = chars[i]
        switch c {
        case "*":
          if i + 1 < chars.count, chars[i + 1] == "*" {
            if i + 2 < chars.count, chars[i + 2] == "/" {
              tokens.append(.globstarSlash)
              i += 3
            } else {
              tokens.append(.globstar)
              i += 2
            }
            continue
          }
          tokens.append(.star)
        case "?":
          tokens.append(.any)
        case "[":
          if let end = chars[(i + 1)...].firstIndex(of: "]"), end > i + 1 {
            var body = Array(chars[(i + 1)..<end])
            let negated = body.first == "!" || body.first == "^"
            if negated { body.removeFirst() }
            var set = Set<Character>()
            var j = 0
            while j < body.count {
              if j + 2 < body.count, body[j + 1] == "-", let lo = body[j].unicodeScalars.first,
                let hi = body[j + 2].unicodeScalars.first, lo.value <= hi.value
              {
                for v in lo.value...hi.value { if let s = Unicode.Scalar(v) { set.insert(Character(s)) } }
                j += 3
              } else {
                set.insert(body[j])
                j += 1
              }
            }
            tokens.append(.characterClass(set, negated: negated))
            i = end + 1
            continue
          }
          tokens.append(.literal(c))
        default:
          tokens.append(.literal(c))
        }
        i += 1
      }
      self.tokens = tokens
    }

    func matches(_ path: String) -> Bool {
      let text = Array(path)
      var memo = [Int: Bool]()
      func match(_ t: Int, _ p: Int) -> Bool {
        let key = t * (text.count + 1) + p
        if let known = memo[key] { return known }
        let result: Bool
        if t == tokens.count {
          result = p == text.count
        } else {
          switch tokens[t] {
          case let .literal(c): result = p < text.count && text[p] == c && match(t + 1, p + 1)
          case .any: result = p < text.count && text[p] != "/" && match(t + 1, p + 1)
          case let .characterClass(set, negated):
            result = p < text.count && text[p] != "/" && set.contains(text[p]) != negated && match(t + 1, p + 1)
          case .star:
            var q = p
            var found = match(t + 1, q)
            while !found, q < text.count, text[q] != "/" {
              q += 1
              found = match(t + 1, q)
            }
            result = found
          case .globstar:
            result = (p...text.count).contains { match(t + 1, $0) }
          case .globstarSlash:
            // `**/` matches nothing or any run of whole folders ending in `/`.
            result = match(t + 1, p) || (p..<text.count).contains { text[$0] == "/" && match(t + 1, $0 + 1) }
          }
        }
        memo[key] = result
        return result
      }
      return match(0, 0)
    }
  }
}
