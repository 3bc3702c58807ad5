/// Splits text into the terms keyword search ranks on, treating code as code.
///
/// An identifier is kept whole and also split into its parts: `parseHTTPResponse` gives
/// `parsehttpresponse`, `parse`, `http`, `response`; `max_retries` gives `max_retries`, `max`, `retries`;
/// `os.path.join` gives each dotted part. Terms are lower-cased. The same tokenizer feeds the embedded
/// store's FTS5 index and Qdrant's sparse vectors, so both rank alike.
public enum CodeTokenizer {
  /// Terms of `text`, in order, with repeats (term frequency matters to BM25).
  public static func terms(_ text: String, dropStopWords: Bool = false) -> [String] {
    if text.utf8.allSatisfy({ $0 < 0x80 }) { return asciiTerms(text, dropStopWords: dropStopWords) }
    var out: [String] = []
    out.reserveCapacity(text.utf8.count / 4)
    var word: [Unicode.Scalar] = []
    func flush() {
      defer { word.removeAll(keepingCapacity: true) }
      guard !word.isEmpty else { return }
      let whole = String(String.UnicodeScalarView(word)).lowercased()
      let parts = splitIdentifier(word)
      let keepWhole = !(dropStopWords && stopWords.contains(whole))
      if keepWhole, whole.unicodeScalars.count >= 2 || word.first!.properties.isAlphabetic == false { out.append(whole) }
      if parts.count > 1 {
        for part in parts where part.count >= 2 && part != whole {
          if dropStopWords && stopWords.contains(part) { continue }
          out.append(part)
        }
      }
    }
    for scalar in text.unicodeScalars {
      if scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar.properties.numericType != nil {
        word.append(scalar)
      } else {
        flush()
      }
    }
    flush()
    if dropStopWords { out.removeAll { $0.count < 2 } }
    return out
  }

  /// Splits an identifier at underscores, lower→upper and letter↔digit boundaries, and acronyms
  /// (`HTTPResponse` → `http`, `response`). Returns lower-cased parts.
  public static func splitIdentifier(_ scalars: [Unicode.Scalar]) -> [String] {
    var parts: [String] = []
    var current: [Unicode.Scalar] = []
    func push() {
      if !current.isEmpty { parts.append(String(String.UnicodeScalarView(current)).lowercased()) }
      current.removeAll(keepingCapacity: true)
    }
    for (i, s) in scalars.enumerated() {
      if s == "_" { push(); continue }
      if let prev = current.last {
        let isUpper = s.properties.isUppercase, prevUpper = prev.properties.isUppercase
        let isDigit = ("0"..."9").contains(s), prevDigit = ("0"..."9").contains(prev)
        let nextLower = i + 1 < scalars.count && scalars[i + 1].properties.isLowercase
        if (isUpper && !prevUpper) || (isUpper && prevUpper && nextLower) || (isDigit != prevDigit) { push() }
      }
      current.append(s)
    }
    push()
    return parts
  }

  /// Common English words of bug-report prose that carry no signal for ranking code.
  public static let stopWords: Set<String> = [
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "don", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
    "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "thanks", "hi", "hello", "please", "seems", "think",
    "like", "way", "get", "got", "one", "use", "using", "used", "work", "works", "working", "example", "expected",
    "actually", "really", "want", "see", "know", "issue", "problem", "bug", "thing", "still", "even", "well", "let",
    "make", "however", "since", "instead", "might", "must", "may", "shall", "etc", "eg", "ie",
    // Words of bug-report prose and issue templates.
    "happen", "happened", "happens", "expect", "expecting", "result", "results", "wrong", "correct", "correctly",
    "currently", "following", "something", "anything", "everything", "things", "able", "need", "needs", "tried",
    "trying", "try", "reproduce", "reproducible", "minimal", "complete", "verifiable", "anyone", "maybe", "guess",
    "sure", "seem", "seemed", "looks", "look", "thank", "sorry", "already", "though", "although", "without",
    "within", "case", "cases", "going", "come", "comes", "cause", "causes", "caused", "fine", "good",
  ]
}
