// Prose: Markdown, cut by headings.

/// Markdown, by headings (ATX and setext, not inside fenced code); oversized sections by paragraphs.
struct MarkdownStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    var headings: [(line: Int, path: String)] = []
    var stack: [(level: Int, title: String)] = []
    var fence: (byte: UInt8, count: Int)? = nil
    var line = 0
    let count = document.lineCount
    // YAML front matter is a section of its own, never a heading.
    if count > 1, document.line(0).trimmingTrailingSpaces == "---" {
      var end = 1
      while end < count, document.line(end).trimmingTrailingSpaces != "---", document.line(end).trimmingTrailingSpaces != "..." { end += 1 }
      if end < count { line = end + 1 }
    }
    let firstContentLine = line
    while line < count {
      let bytes = document.byteSlice(line)
      let indent = document.indent(line)
      let body = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 })
      if let open = fence {
        if indent < 4, let marker = fenceMarker(body), marker.byte == open.byte, marker.count >= open.count,
          body.dropFirst(marker.count).allSatisfy({ $0 == 0x20 || $0 == 0x09 })
        {
          fence = nil
        }
        line += 1
        continue
      }
      if indent < 4, let marker = fenceMarker(body) {
        fence = marker
        line += 1
        continue
      }
      var heading: (level: Int, title: String, start: Int)? = nil
      if indent < 4, body.first == UInt8(ascii: "#") {
        let level = body.prefix(while: { $0 == UInt8(ascii: "#") }).count
        let rest = body.dropFirst(level)
        if level <= 6, rest.isEmpty || rest.first == 0x20 || rest.first == 0x09 {
          var title = rest.trimmingBlanks
          while title.last == UInt8(ascii: "#") { title = title.dropLast() }
          heading = (level, String(decoding: title.trimmingBlanks, as: UTF8.self), line)
        }
      } else if indent < 4, line > firstContentLine, !document.blank[line - 1],
        let level = setextLevel(body), isParagraphText(document, line - 1), headings.last?.line != line - 1
      {
        heading = (level, String(decoding: document.byteSlice(line - 1).trimmingBlanks, as: UTF8.self), line - 1)
      }
      if let heading {
        while let top = stack.last, top.level >= heading.level { stack.removeLast() }
        stack.append((heading.level, heading.title))
        headings.append((heading.start, stack.map(\.title).filter { !$0.isEmpty }.joined(separator: " > ")))
      }
      line += 1
    }
    var result: [Section] = []
    var start = 0
    var symbol: String? = nil
    for heading in headings {
      if heading.line > start { result.append(Section(lines: start..<heading.line, symbol: symbol)) }
      start = heading.line
      symbol = heading.path.isEmpty ? nil : heading.path
    }
    result.append(Section(lines: start..<count, symbol: symbol))
    return result
  }

  func refine(_ section: Section, _ document: SourceDocument) -> [Section]? {
    // Paragraph boundaries: a non-blank line after a blank one, outside fenced code.
    var boundaries: [Int] = []
    var fence: (byte: UInt8, count: Int)? = nil
    for line in section.lines {
      let body = document.byteSlice(line).drop(while: { $0 == 0x20 || $0 == 0x09 })
      if let open = fence {
        if let marker = fenceMarker(body), marker.byte == open.byte, marker.count >= open.count { fence = nil }
        continue
      }
      if let marker = fenceMarker(body) {
        if line > section.lines.lowerBound, document.blank[line - 1] { boundaries.append(line) }
        fence = marker
        continue
      }
      if line > section.lines.lowerBound, !document.blank[line], document.blank[line - 1] { boundaries.append(line) }
    }
    return Chunking.sections(in: section.lines, boundaries: boundaries, symbol: { _ in section.symbol })
  }

  private func fenceMarker(_ body: ArraySlice<UInt8>) -> (byte: UInt8, count: Int)? {
    guard let first = body.first, first == UInt8(ascii: "`") || first == UInt8(ascii: "~") else { return nil }
    let count = body.prefix(while: { $0 == first }).count
    return count >= 3 ? (first, count) : nil
  }

  private func setextLevel(_ body: ArraySlice<UInt8>) -> Int? {
    guard let first = body.first, first == UInt8(ascii: "=") || first == UInt8(ascii: "-") else { return nil }
    let marks = body.prefix(while: { $0 == first })
    guard body.dropFirst(marks.count).allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { return nil }
    if first == UInt8(ascii: "-"), marks.count < 2 { return nil }
    return first == UInt8(ascii: "=") ? 1 : 2
  }

  /// A line that can be the text of a setext heading: not a list item, quote, table or heading.
  private func isParagraphText(_ document: SourceDocument, _ line: Int) -> Bool {
    let body = document.byteSlice(line).drop(while: { $0 == 0x20 || $0 == 0x09 })
    guard let first = body.first else { return false }
    if document.indent(line) >= 4 { return false }
    if [
      UInt8(ascii: "#"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "`"),
      UInt8(ascii: "~"),
    ].contains(first) {
      return false
    }
    if first == UInt8(ascii: "=") { return false }
    return true
  }
}
