import Foundation

// Configuration and data: YAML by keys, TOML and INI by tables, JSON by members, Terraform (HCL)
// by blocks.

extension BlockSyntax {
  /// JSON: the members of the top-level object, named by their keys.
  static let json = BlockSyntax {
    $0.keyed = true
    $0.baseDepth = 1
    $0.bindingKeywords = false
    $0.closers = [UInt8(ascii: ","), UInt8(ascii: "{"), UInt8(ascii: "[")]
  }
  /// Terraform and HCL: blocks in braces, `#` comments.
  static let terraform = BlockSyntax {
    $0.hashComments = true
    $0.bindingKeywords = false
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
      if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"), bytes[index + 1] == byte, bytes[index + 2] == byte {
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
