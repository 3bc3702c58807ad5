import Embedding
import Foundation
import Testing

@Suite struct WordPieceTokenizerTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let text: String
    let ids: [Int32]
    let tokens: [String]
    var testDescription: String { String(text.prefix(40)).debugDescription }
  }

  static let cases: [Case] = {
    guard let object = try? LocalFixtures.json("tokenizer_cases") as? [String: Any], let cases = object["cases"] as? [[String: Any]] else {
      return []
    }
    return cases.map { Case(text: $0["text"] as! String, ids: ($0["ids"] as! [Int]).map { Int32($0) }, tokens: $0["tokens"] as! [String]) }
  }()

  @Test func fixtureHasCases() { #expect(Self.cases.count >= 16) }

  @Test(LocalFixtures.needsInstalledModel, arguments: cases)
  func matchesHuggingFace(_ example: Case) throws {
    let model = try #require(LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    let tokenizer = try WordPieceTokenizer.load(modelDirectory: model)
    #expect(tokenizer.encode(example.text) == example.ids)
    if example.ids.count < 256 {
      #expect(["[CLS]"] + tokenizer.pieces(example.text) + ["[SEP]"] == example.tokens)
      #expect(tokenizer.tokenCount(example.text) == example.ids.count)
    }
  }

  @Test(LocalFixtures.needsInstalledModel) func tokenizerJSONVocabularyGivesTheSameIDs() throws {
    let model = try #require(LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    let fromVocab = try WordPieceTokenizer.load(modelDirectory: model)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try FileManager.default.copyItem(
      at: model.appendingPathComponent("tokenizer.json"), to: folder.appendingPathComponent("tokenizer.json"))
    let fromJSON = try WordPieceTokenizer.load(modelDirectory: folder)
    for example in Self.cases { #expect(fromJSON.encode(example.text) == fromVocab.encode(example.text)) }
  }

  /// A vocabulary made up here, so these run without the model.
  static let small = try! WordPieceTokenizer(
    tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "run", "##ning", ",", "!", "cafe", "日"], maxLength: 6)

  @Test func greedyLongestMatchWithContinuations() {
    #expect(Self.small.pieces("unaffable running, cafe!") == ["un", "##aff", "##able", "run", "##ning", ",", "cafe", "!"])
    #expect(Self.small.pieces("Café 日x") == ["cafe", "日", "[UNK]"])
    #expect(Self.small.pieces("unknownword") == ["[UNK]"])
  }

  @Test func normalisesBeforeSplitting() {
    // Decomposed and precomposed accents agree; marks in either order are dropped.
    #expect(Self.small.pieces("Cafe\u{301} CAFÉ cafe\u{323}\u{302}") == ["cafe", "cafe", "cafe"])
    // U+037E GREEK QUESTION MARK decomposes to ";", which is punctuation: NFD runs before the split.
    #expect(Self.small.pieces("cafe\u{37E}cafe") == ["cafe", "[UNK]", "cafe"])
    // Zero-width space (Cf) vanishes, no-break space splits.
    #expect(Self.small.pieces("ca\u{200B}fe\u{A0}run") == ["cafe", "run"])
  }

  @Test func emptyTextIsJustSpecialTokens() {
    #expect(Self.small.encode("") == [2, 3])
    #expect(Self.small.encode(" \t\n\u{0}") == [2, 3])
    #expect(Self.small.tokenCount("") == 2)
  }

  @Test func truncatesToMaxLengthButCountsEverything() {
    let text = String(repeating: "run ", count: 10)
    #expect(Self.small.encode(text) == [2, 7, 7, 7, 7, 3])
    #expect(Self.small.tokenCount(text) == 12)
  }

  @Test func vocabularyWithoutSpecialTokensIsRejected() {
    #expect(throws: ModelFileError.self) { try WordPieceTokenizer(tokens: ["a", "b"]) }
  }
}
