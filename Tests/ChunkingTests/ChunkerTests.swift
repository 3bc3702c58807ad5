import Chunking
import Foundation
import GitRAGCore
import Testing

@Test func pythonAtDefaultBudgetKeepsDecoratorsAndDocstringsWithDefinitions() {
  let chunks = chunked("billing/invoice.py", Fixtures.python)
  let lines = splitLines(Fixtures.python)
  for chunk in chunks where chunk.content.contains("class LineItem:") {
    #expect(chunk.content.contains("@dataclass\nclass LineItem:\n    \"\"\"One billed line.\"\"\""))
  }
  #expect(chunks.contains { $0.symbol == "LineItem" })
  // Every `def`/`class` line shares its chunk with the decorators just above it.
  for (index, line) in lines.enumerated() where line.hasPrefix("@") {
    #expect(chunks.contains { $0.startLine <= index + 1 && $0.endLine >= index + 2 })
  }
}

@Test func pythonLargeClassIsCutByMethodWithClassContextInSymbol() {
  let chunks = chunked("invoice.py", Fixtures.python, options: ChunkingOptions(maxCharacters: 400))
  let add = try! #require(chunks.first { $0.symbol == "Invoice.add" })
  #expect(add.content.hasPrefix("    def add(self, item: LineItem) -> None:\n        \"\"\"Append an item to the invoice.\"\"\""))
  let pay = try! #require(chunks.first { $0.symbol == "Invoice.pay" })
  #expect(pay.content.hasPrefix("    # Payment is idempotent"))
  let header = try! #require(chunks.first { $0.symbol == "Invoice" })
  #expect(header.content.hasPrefix("class Invoice:\n    \"\"\"An invoice with line items."))
}

@Test func markdownSymbolsAreHeadingPathsAndFencesHideHeadings() {
  let chunks = chunked("docs/README.md", Fixtures.markdown, options: ChunkingOptions(maxCharacters: 120))
  let linux = try! #require(chunks.first { $0.symbol == "git-rag > Install > Linux" })
  #expect(linux.content.contains("# not a heading"))
  #expect(!chunks.contains { $0.symbol?.contains("not a heading") == true })
}

@Test func markdownOversizedSectionIsCutAtParagraphs() {
  let paragraphs = (1...12).map { "Paragraph \($0) says something about installing the tool on a machine." }
  let text = "# Guide\n\n## Install\n\n" + paragraphs.joined(separator: "\n\n") + "\n"
  let chunks = chunked("guide.md", text, options: ChunkingOptions(maxCharacters: 300))
  #expect(chunks.count > 2)
  let lines = splitLines(text)
  for chunk in chunks.dropFirst() {
    #expect(chunk.symbol == "Guide > Install")
    // Cut at paragraph boundaries: every chunk starts with a paragraph's first line.
    #expect(chunk.startLine == 1 || lines[chunk.startLine - 2].isEmpty)
  }
}

@Test func unicodeContentIsCountedInCharactersAndKeptIntact() {
  let text = (1...40).map { "## 第\($0)章 🚀 naïve café\n\n東京の天気は晴れです。emoji 👩‍👩‍👧 and ĉapelo.\n" }.joined(separator: "\n")
  let options = ChunkingOptions(maxCharacters: 200)
  let chunks = chunked("notes.md", text, options: options)
  #expect(chunks.count > 5)
  #expect(chunks.contains { $0.symbol == "第7章 🚀 naïve café" })
  #expect(chunks.map(\.content).joined(separator: "\n").contains("👩‍👩‍👧"))
}

@Test func crlfGivesTheSameChunksAsLF() {
  let lf = Fixtures.python
  let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
  let options = ChunkingOptions(maxCharacters: 400)
  let a = chunked("a.py", lf, options: options)
  let b = chunked("a.py", crlf, options: options)
  #expect(a == b)
  #expect(!b.contains { $0.content.contains("\r") })
}

@Test func emptyAndWhitespaceOnlyFilesGiveNoChunks() {
  #expect(Chunker.chunk(path: "a.py", text: "").isEmpty)
  #expect(Chunker.chunk(path: "a.md", text: "  \n\t\n\r\n   ").isEmpty)
  #expect(Chunker.chunk(path: "a.txt", text: "\n\n\n").isEmpty)
}

@Test func oneGiantLineIsCutByCharacters() {
  var generator = SplitMix(seed: 7)
  let words = (0..<40_000).map { _ in String(repeating: "x", count: Int(generator.next() % 8) + 1) }
  let line = words.joined(separator: " ")
  #expect(line.utf8.count > 200_000)
  let options = ChunkingOptions(maxCharacters: 1500)
  let chunks = chunked("bundle.js", line, options: options)
  #expect(chunks.count >= line.count / 1500)
  #expect(chunks.allSatisfy { $0.startLine == 1 && $0.endLine == 1 })
  #expect(chunks.map(\.content).joined() == line)
  // Cuts prefer whitespace, so words stay whole.
  #expect(chunks.dropLast().allSatisfy { $0.content.hasSuffix(" ") })
}

@Test func fiveThousandLineFileIsCoveredAndMerged() {
  var source = ""
  for index in 0..<1000 {
    source += "def handler_\(index)(event):\n    value = event.get(\"key_\(index)\")\n    return value * \(index)\n\n"
  }
  source += String(repeating: "x = 1\n", count: 1000)
  #expect(splitLines(source).count == 5000)
  let started = Date()
  let chunks = chunked("handlers.py", source)
  #expect(Date().timeIntervalSince(started) < 5)
  // Small neighbours are merged: far fewer chunks than definitions.
  #expect(chunks.count < 400)
  #expect(chunks.count > 50)
  #expect(chunks.first?.symbol == "handler_0")
}

@Test func tinyStatementsAreMergedUpToTheBudget() {
  let text = (0..<300).map { "let constant\($0) = \($0)" }.joined(separator: "\n\n")
  let chunks = chunked("Constants.swift", text)
  #expect(chunks.count < 20)
}

@Test func tokenBudgetIsHonouredWithAFakeCounter() {
  let words: @Sendable (String) -> Int = { $0.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count }
  let options = ChunkingOptions(maxCharacters: 4000, maxTokens: 25, tokenCounter: words)
  for (path, text) in [
    ("a.py", Fixtures.python), ("README.md", Fixtures.markdown), ("a.swift", Fixtures.swift),
    ("notes.txt", String(repeating: "word ", count: 500)),
  ] {
    let chunks = chunked(path, text, options: options)
    #expect(!chunks.isEmpty)
    #expect(chunks.allSatisfy { words($0.content) <= 25 })
  }
}

@Test func genericTextIsCutByLinesWithOverlap() {
  let text = (1...200).map { "log line \($0): request served in \($0 * 3) ms" }.joined(separator: "\n")
  let options = ChunkingOptions(maxCharacters: 500, overlapLines: 2)
  let chunks = chunked("server.log", text, options: options)
  #expect(chunks.count > 10)
  #expect(chunks.allSatisfy { $0.language == "text" && $0.symbol == nil })
  for (previous, next) in zip(chunks, chunks.dropFirst()) {
    #expect(next.startLine == previous.endLine - 1, "windows overlap by two lines")
  }
}

@Test func languagesAreDetectedByExtensionNameAndShebang() {
  #expect(LanguageDetector.language(path: "src/app.py", firstLine: nil) == "python")
  #expect(LanguageDetector.language(path: "Dockerfile", firstLine: nil) == "dockerfile")
  #expect(LanguageDetector.language(path: "docker/Dockerfile.prod", firstLine: nil) == "dockerfile")
  #expect(LanguageDetector.language(path: "Makefile", firstLine: nil) == "makefile")
  #expect(LanguageDetector.language(path: "CMakeLists.txt", firstLine: nil) == "cmake")
  #expect(LanguageDetector.language(path: "Gemfile", firstLine: nil) == "ruby")
  #expect(LanguageDetector.language(path: "web/index.tsx", firstLine: nil) == "typescript")
  #expect(LanguageDetector.language(path: "include/vec.hpp", firstLine: nil) == "cpp")
  #expect(LanguageDetector.language(path: "bin/tool", firstLine: "#!/usr/bin/env python3") == "python")
  #expect(LanguageDetector.language(path: "bin/run", firstLine: "#!/bin/bash -e") == "shell")
  #expect(LanguageDetector.language(path: "bin/serve", firstLine: "#!/usr/bin/env -S node --no-warnings") == "javascript")
  #expect(LanguageDetector.language(path: "LICENSE", firstLine: "MIT License") == "text")
  #expect(LanguageDetector.language(path: ".github/workflows/ci.yml", firstLine: nil) == "yaml")
}

@Test func languageComesFromThePathAndShebang() {
  let chunks = chunked("scripts/deploy", Fixtures.shell, options: ChunkingOptions(maxCharacters: 150))
  #expect(chunks.allSatisfy { $0.language == "shell" })
  #expect(chunks.contains { $0.symbol == "build" })
}

@Test func chunksAreDeterministic() {
  for golden in goldenCases {
    let options = ChunkingOptions(maxCharacters: golden.maxCharacters)
    #expect(
      Chunker.chunk(path: golden.path, text: golden.text, options: options)
        == Chunker.chunk(path: golden.path, text: golden.text, options: options))
  }
}

@Test func randomTextKeepsTheInvariants() {
  var generator = SplitMix(seed: 42)
  let pieces = [
    "def f():", "    return {", "}", "", "  ", "# Title", "```", "class A {", "\"\"\"", "x = '{'", "é🚀",
    String(repeating: "long ", count: 80),
  ]
  for round in 0..<60 {
    let count = Int(generator.next() % 120)
    let text = (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined(
      separator: generator.next() % 2 == 0 ? "\n" : "\r\n")
    let path = ["a.py", "a.md", "a.swift", "a.json", "a.yaml", "a.toml", "a.rb", "a.txt"][round % 8]
    _ = chunked(
      path, text, options: ChunkingOptions(maxCharacters: 120 + Int(generator.next() % 400), overlapLines: Int(generator.next() % 3)))
  }
}

/// A small deterministic random generator for test inputs.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Test func longProseLinesAreCutAtSentencesThenWords() {
  let sentence = "Each sync compares the last indexed commit with HEAD and embeds only what changed since then. "
  let paragraph = String(repeating: sentence, count: 40)
  let chunks = chunked("docs/design.md", "# Design\n\n" + paragraph + "\n", options: ChunkingOptions(maxCharacters: 1000))
  let pieces = chunks.filter { $0.startLine == 3 }
  #expect(pieces.count >= 4)
  #expect(pieces.map(\.content).joined() == paragraph)
  // Every cut but the last falls after a full sentence.
  #expect(pieces.dropLast().allSatisfy { $0.content.hasSuffix(". ") })
  #expect(pieces.allSatisfy { $0.content.unicodeScalars.count <= 1000 })

  // With a token budget (one token a word here), halves are cut between words, nearest the middle.
  let words = (0..<600).map { "word\($0)" }.joined(separator: " ")
  let counted = ChunkingOptions(maxCharacters: 100_000, maxTokens: 100, tokenCounter: { $0.split(separator: " ").count })
  let parts = chunked("notes.txt", words + "\n", options: counted)
  #expect(parts.map(\.content).joined() == words)
  #expect(parts.allSatisfy { $0.content.split(separator: " ").count <= 100 })
  let vocabulary = Set(words.split(separator: " "))
  #expect(parts.allSatisfy { $0.content.split(separator: " ").allSatisfy { vocabulary.contains($0) } }, "a word was cut in two")
}
