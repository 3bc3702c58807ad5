import Foundation

enum StructureCatalog {
  /// The structure that cuts files of `language`.
  static func structure(for language: String) -> any Structure {
    switch language {
    case "markdown": MarkdownStructure()
    case "python": PythonStructure()
    case "yaml": YAMLStructure()
    case "toml", "ini": TableStructure()
    default:
      if let syntax = BlockSyntax.for(language: language) { BlockStructure(syntax: syntax) } else { LineStructure() }
    }
  }
}

/// Text without known structure: one section, cut by lines with overlap.
struct LineStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    [Section(lines: 0..<document.lineCount, symbol: nil)]
  }
}

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
    if [UInt8(ascii: "#"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "`"), UInt8(ascii: "~")].contains(first) {
      return false
    }
    if first == UInt8(ascii: "=") { return false }
    return true
  }
}

/// TOML and INI, by `[table]` headers; the symbol is the table name.
struct TableStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    var boundaries: [Int] = []
    var names: [Int: String] = [:]
    var inMultiline = false
    for line in 0..<document.lineCount {
      let bytes = document.byteSlice(line)
      let tripleCount = countTripleQuotes(bytes)
      if inMultiline {
        if tripleCount % 2 == 1 { inMultiline = false }
        continue
      }
      if tripleCount % 2 == 1 { inMultiline = true }
      let body = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 })
      guard body.first == UInt8(ascii: "[") else { continue }
      let inner = body.drop(while: { $0 == UInt8(ascii: "[") })
      guard let close = inner.firstIndex(of: UInt8(ascii: "]")) else { continue }
      let name = String(decoding: inner[inner.startIndex..<close], as: UTF8.self).trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty else { continue }
      var start = line
      while start > 0, isComment(document.byteSlice(start - 1)) { start -= 1 }
      boundaries.append(start)
      names[start] = name
    }
    return Chunking.sections(in: 0..<document.lineCount, boundaries: boundaries, symbol: { names[$0.lowerBound] })
  }

  private func isComment(_ bytes: ArraySlice<UInt8>) -> Bool {
    let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 })
    return first == UInt8(ascii: "#") || first == UInt8(ascii: ";")
  }

  private func countTripleQuotes(_ bytes: ArraySlice<UInt8>) -> Int {
    var count = 0
    var index = bytes.startIndex
    while index + 2 < bytes.endIndex {
      let byte = bytes[index]
      if (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")), bytes[index + 1] == byte, bytes[index + 2] == byte {
        count += 1
        index += 3
      } else {
        index += 1
      }
    }
    return count
  }
}

/// YAML, by top-level keys and documents; oversized keys by their child keys or list items.
struct YAMLStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    keySections(document, range: 0..<document.lineCount, indent: 0, parent: nil)
  }

  func refine(_ section: Section, _ document: SourceDocument) -> [Section]? {
    // Children are the lines after the first at the smallest deeper indentation.
    var childIndent = Int.max
    for line in section.lines.dropFirst() where !document.blank[line] && !isComment(document, line) {
      childIndent = min(childIndent, document.indent(line))
    }
    guard childIndent != Int.max, childIndent > section.level else { return nil }
    return keySections(document, range: section.lines, indent: childIndent, parent: section.symbol)
  }

  private func keySections(_ document: SourceDocument, range: Range<Int>, indent: Int, parent: String?) -> [Section] {
    var boundaries: [Int] = []
    var names: [Int: String] = [:]
    var blockScalarIndent: Int? = nil
    for line in range where !document.blank[line] {
      let lineIndent = document.indent(line)
      if let scalarIndent = blockScalarIndent {
        if lineIndent > scalarIndent { continue }
        blockScalarIndent = nil
      }
      let body = document.byteSlice(line).dropFirst(lineIndent)
      let text = String(decoding: body, as: UTF8.self)
      if text.hasSuffix("|") || text.hasSuffix(">") || text.hasSuffix("|-") || text.hasSuffix(">-") { blockScalarIndent = lineIndent }
      guard lineIndent == indent else { continue }
      if text.hasPrefix("#") { continue }
      var name: String? = nil
      if text.hasPrefix("---") || text.hasPrefix("...") {
        name = nil
      } else if text.hasPrefix("- ") || text == "-" {
        name = parent
      } else if let colon = keyColon(text) {
        let key = text[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
        name = parent.map { "\($0).\(key)" } ?? key
      } else {
        continue
      }
      var start = line
      while start > range.lowerBound, isComment(document, start - 1) { start -= 1 }
      boundaries.append(start)
      names[start] = name
    }
    let firstSymbol = parent
    return Chunking.sections(in: range, boundaries: boundaries, symbol: { names[$0.lowerBound] ?? firstSymbol }, level: indent)
  }

  /// The `:` ending a mapping key (followed by space or end of line), outside quotes.
  private func keyColon(_ text: String) -> String.Index? {
    var quote: Character? = nil
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == ":" {
        let next = text.index(after: index)
        if next == text.endIndex || text[next] == " " || text[next] == "\t" { return index }
      } else if character == "#" || character == "{" || character == "[" {
        return nil
      }
      index = text.index(after: index)
    }
    return nil
  }

  private func isComment(_ document: SourceDocument, _ line: Int) -> Bool {
    document.byteSlice(line).first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "#")
  }
}

extension ArraySlice<UInt8> {
  /// Without leading and trailing spaces, tabs and carriage returns.
  var trimmingBlanks: ArraySlice<UInt8> {
    let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return [] }
    return self[first...last]
  }
}

extension Substring {
  var trimmingTrailingSpaces: Substring {
    var end = endIndex
    while end > startIndex, let previous = self[..<end].last, previous == " " || previous == "\t" { end = index(before: end) }
    return self[startIndex..<end]
  }
}
