import GitRAGCore
import Testing

/// The keyword index depends on `CodeTokenizer.terms` being stable: its ASCII fast path must give
/// exactly what the general Unicode path gives. Appending " é" (a one-letter word, never a term)
/// sends the same text through the general path.
@Suite struct TokenizerFastPathTests {
  @Test func asciiFastPathMatchesTheUnicodePath() {
    var random = SplitMix64(seed: 3)
    let alphabet = Array("abcxyzXYZ_019 .,()/HTTPResponseparse__init__Q\n\t-+:\"'")
    for _ in 0..<3000 {
      let text = String((0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
      for drop in [false, true] {
        #expect(CodeTokenizer.terms(text, dropStopWords: drop) == CodeTokenizer.terms(text + " é", dropStopWords: drop), "\(text)")
      }
    }
    #expect(
      CodeTokenizer.terms("parseHTTPResponse max_retries os.path.join getURL2Value __init__ a 3.14") == [
        "parsehttpresponse", "parse", "http", "response", "max_retries", "max", "retries", "os", "path", "join",
        "geturl2value", "get", "url", "value", "__init__", "3", "14",
      ])
  }
}
