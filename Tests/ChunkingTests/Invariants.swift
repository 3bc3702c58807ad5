import Chunking
import GitRAGCore
import Testing

/// Checks what every chunking must satisfy: ranges in bounds and ordered, content exactly the
/// referenced lines (or, for a line cut by characters, pieces that give the line back), every
/// non-blank line covered, no blank-only chunk, and the budget kept.
func checkInvariants(
  _ chunks: [Chunk], text: String, options: ChunkingOptions = .init(), sourceLocation: SourceLocation = #_sourceLocation
) {
  let lines = splitLines(text)
  var covered = [Bool](repeating: false, count: lines.count)
  var fragments: [Int: String] = [:]
  for chunk in chunks {
    #expect(
      chunk.startLine >= 1 && chunk.startLine <= chunk.endLine && chunk.endLine <= lines.count,
      "range \(chunk.startLine)...\(chunk.endLine)", sourceLocation: sourceLocation)
    guard chunk.startLine >= 1, chunk.startLine <= chunk.endLine, chunk.endLine <= lines.count else { continue }
    let referenced = lines[(chunk.startLine - 1)..<chunk.endLine].joined(separator: "\n")
    if chunk.content != referenced {
      #expect(
        chunk.startLine == chunk.endLine, "content of \(chunk.startLine)...\(chunk.endLine) differs from its lines",
        sourceLocation: sourceLocation)
      fragments[chunk.startLine, default: ""] += chunk.content
    }
    #expect(chunk.content.contains(where: { !$0.isWhitespace }), "blank chunk at \(chunk.startLine)", sourceLocation: sourceLocation)
    #expect(
      chunk.content.unicodeScalars.count <= options.maxCharacters,
      "chunk \(chunk.startLine)...\(chunk.endLine) has \(chunk.content.unicodeScalars.count) characters", sourceLocation: sourceLocation)
    if let maxTokens = options.maxTokens, let counter = options.tokenCounter {
      #expect(
        counter(chunk.content) <= maxTokens, "chunk \(chunk.startLine)...\(chunk.endLine) over the token budget",
        sourceLocation: sourceLocation)
    }
    for line in chunk.startLine...chunk.endLine { covered[line - 1] = true }
  }
  for (line, joined) in fragments {
    #expect(joined == lines[line - 1], "pieces of line \(line) do not give the line back", sourceLocation: sourceLocation)
  }
  for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
    #expect(covered[index], "line \(index + 1) not covered", sourceLocation: sourceLocation)
  }
  for (previous, next) in zip(chunks, chunks.dropFirst()) {
    #expect(previous.startLine <= next.startLine, "chunks out of order", sourceLocation: sourceLocation)
  }
}

/// Lines as the chunker numbers them: split at `\n`, a trailing `\r` dropped, no empty last line.
func splitLines(_ text: String) -> [String] {
  if text.isEmpty { return [] }
  // Swift treats "\r\n" as one Character, so split the scalars rather than the characters.
  var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
    var line = String(String.UnicodeScalarView(scalars))
    if line.unicodeScalars.last == "\r" { line.unicodeScalars.removeLast() }
    return line
  }
  if text.unicodeScalars.last == "\n" { lines.removeLast() }
  return lines
}

/// `(start, end, symbol)` of each chunk, for golden comparisons.
func outline(_ chunks: [Chunk]) -> [String] {
  chunks.map { "\($0.startLine)-\($0.endLine) \($0.symbol ?? "-")" }
}

/// Chunks `text` as the file `path` and checks the invariants.
func chunked(_ path: String, _ text: String, options: ChunkingOptions = .init(), sourceLocation: SourceLocation = #_sourceLocation)
  -> [Chunk]
{
  let chunks = Chunker.chunk(path: path, text: text, options: options)
  checkInvariants(chunks, text: text, options: options, sourceLocation: sourceLocation)
  return chunks
}
