/// How a brace-like language writes comments, strings and blocks, roughly: enough to find where
/// top-level definitions start and end. Each language's syntax is a static value in the file of
/// its family (Languages/).
struct BlockSyntax {
  enum SingleQuote { case string, character }

  var language = ""
  var slashComments = true
  var hashComments = false
  var blockComments = true
  var singleQuote = SingleQuote.character
  var backtickStrings = false
  var tripleQuoteStrings = false
  /// Only `{}` count as blocks (shell, where `case` patterns leave `)` unbalanced).
  var bracesOnly = false
  /// `def … end`, `do … end`, `class … end`.
  var rubyKeywords = false
  /// Last byte of a line after which the next line at the same depth starts a new section.
  var closers: Set<UInt8> = [UInt8(ascii: "}"), UInt8(ascii: ";")]
  /// Last word of a line after which the next line at the same depth starts a new section.
  var closingWords: Set<String> = []
  /// Sections are keyed members (`"key": value`), named by their key.
  var keyed = false
  /// Depth of the top-level members (1 for a JSON document, whose top level is one object).
  var baseDepth = 0
  /// Functions may be declared without a keyword (`int main(void) {`): the name before `(` is used.
  var parenthesisNames = false
  /// Only lines ending in `{` may be named by the name before `(` (JavaScript class methods).
  var parenthesisNamesNeedBrace = false
  var bindingKeywords = true

  /// The defaults, changed by `configure` (the language is set by the registry).
  init(_ configure: (inout BlockSyntax) -> Void = { _ in }) { configure(&self) }
}

/// What the block scanner learnt about one line.
struct BlockLine {
  var depthAtStart = 0
  var depthAtEnd = 0
  /// The line starts inside a block comment or a multi-line string.
  var startsInside = false
  /// Last byte of code (outside strings and comments), 0 when the line has no code.
  var lastCode: UInt8 = 0
  var firstCode: UInt8 = 0
  var lastWord: String? = nil
  var firstWord: String? = nil
}

/// Code in a brace-like language: sections at blank lines and after closed blocks at the top
/// level; oversized sections by their members one level deeper (symbol `Type.member`).
final class BlockStructure: Structure {
  let syntax: BlockSyntax
  private var facts: [BlockLine] = []

  init(syntax: BlockSyntax) { self.syntax = syntax }

  func sections(_ document: SourceDocument) -> [Section] {
    facts = BlockScanner(syntax: syntax).scan(document)
    return split(document, range: 0..<document.lineCount, depth: syntax.baseDepth, parent: nil)
  }

  func refine(_ section: Section, _ document: SourceDocument) -> [Section]? {
    guard facts.count == document.lineCount else { return nil }
    var parent = section.symbol
    for depth in section.level + 1...section.level + 3 {
      let parts = split(document, range: section.lines, depth: depth, parent: parent)
      if parts.count > 1 { return parts }
      // One member only (a module holding one class): look inside it, under its name.
      if let member = section.lines.first(where: { facts[$0].depthAtStart == depth && facts[$0].lastCode != 0 && !facts[$0].startsInside }),
        let name = name(document, member..<member + 1, depth: depth)
      {
        parent = parent.map { "\($0).\(name)" } ?? name
      }
    }
    return nil
  }

  private static let continuationWords: Set<String> = [
    "else", "elif", "elsif", "catch", "finally", "rescue", "ensure", "when", "where", "then", "do", "except",
  ]

  private func split(_ document: SourceDocument, range: Range<Int>, depth: Int, parent: String?) -> [Section] {
    var boundaries: [Int] = []
    for line in range.dropFirst() where isBoundary(document, line, depth: depth) { boundaries.append(line) }
    return Chunking.sections(
      in: range, boundaries: boundaries,
      symbol: { part in
        if part.lowerBound == range.lowerBound, parent != nil { return parent }
        guard let name = self.name(document, part, depth: depth) else { return parent }
        return parent.map { "\($0).\(name)" } ?? name
      }, level: depth)
  }

  private func isBoundary(_ document: SourceDocument, _ line: Int, depth: Int) -> Bool {
    let fact = facts[line]
    guard !document.blank[line], fact.depthAtStart == depth, !fact.startsInside else { return false }
    // Closing lines end the block before them; continuation lines go on with it.
    if let word = fact.firstWord, Self.continuationWords.contains(word) || syntax.closingWords.contains(word) { return false }
    switch fact.firstCode {
    case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "."), UInt8(ascii: "?"),
      UInt8(ascii: ":"),
      UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "+"), UInt8(ascii: "="):
      if !syntax.keyed { return false }
    default: break
    }
    let previous = line - 1
    if document.blank[previous] { return true }
    let before = facts[previous]
    guard before.depthAtEnd == depth, before.lastCode != 0 else { return false }
    if syntax.closers.contains(before.lastCode) { return true }
    if let word = before.lastWord, syntax.closingWords.contains(word) { return true }
    return false
  }

  /// The name of the definition a section starts with: its first line of code.
  private func name(_ document: SourceDocument, _ range: Range<Int>, depth: Int) -> String? {
    for line in range.prefix(12) where !document.blank[line] {
      let fact = facts[line]
      if fact.startsInside || fact.lastCode == 0 { continue }
      let body = document.byteSlice(line).drop(while: { $0 == 0x20 || $0 == 0x09 })
      if body.first == UInt8(ascii: "@") && !body.contains(UInt8(ascii: " ")) { continue }
      if body.starts(with: Array("#[".utf8)) || (syntax.language == "csharp" && body.first == UInt8(ascii: "[")) { continue }
      if syntax.keyed {
        guard body.first == UInt8(ascii: "\"") else { return nil }
        let key = body.dropFirst().prefix(while: { $0 != UInt8(ascii: "\"") })
        return String(decoding: key, as: UTF8.self)
      }
      // `let`/`var` name members of a type, not locals of a function body.
      return DefinitionName.find(in: body, syntax: syntax, lastCode: fact.lastCode, bindings: depth - syntax.baseDepth <= 1)
    }
    return nil
  }
}

/// Tracks nesting depth through strings and comments, line by line.
struct BlockScanner {
  let syntax: BlockSyntax

  private enum Mode: Equatable { case code, blockComment, backtick, triple }

  private static let rubyOpeners: Set<String> = ["def", "class", "module", "if", "unless", "while", "until", "case", "begin", "for"]

  func scan(_ document: SourceDocument) -> [BlockLine] {
    let bytes = document.bytes
    var result = [BlockLine](repeating: BlockLine(), count: document.lineCount)
    var depth = 0
    var mode = Mode.code
    for line in 0..<document.lineCount {
      var fact = BlockLine()
      fact.depthAtStart = depth
      fact.startsInside = mode != .code
      let range = document.byteRanges[line]
      var index = range.lowerBound
      let end = range.upperBound
      var previousCode: UInt8 = 0
      var firstWord: Range<Int>? = nil
      var lastWord: Range<Int>? = nil
      func note(_ byte: UInt8) {
        if fact.firstCode == 0 { fact.firstCode = byte }
        fact.lastCode = byte
        lastWord = nil
      }
      while index < end {
        let byte = bytes[index]
        switch mode {
        case .blockComment:
          if byte == UInt8(ascii: "*"), index + 1 < end, bytes[index + 1] == UInt8(ascii: "/") {
            mode = .code
            index += 2
          } else {
            index += 1
          }
          continue
        case .backtick:
          if byte == UInt8(ascii: "\\") { index += 2; continue }
          if byte == UInt8(ascii: "`") { mode = .code; note(byte) }
          index += 1
          continue
        case .triple:
          if byte == UInt8(ascii: "\\") { index += 2; continue }
          if byte == UInt8(ascii: "\""), index + 2 < end, bytes[index + 1] == byte, bytes[index + 2] == byte {
            mode = .code
            note(byte)
            index += 3
          } else {
            index += 1
          }
          continue
        case .code:
          break
        }
        if byte == 0x20 || byte == 0x09 || byte == 0x0D {
          index += 1
          continue
        }
        if syntax.slashComments, byte == UInt8(ascii: "/"), index + 1 < end, bytes[index + 1] == UInt8(ascii: "/") { break }
        if syntax.hashComments, byte == UInt8(ascii: "#"),
          index == range.lowerBound || bytes[index - 1] == 0x20 || bytes[index - 1] == 0x09 || bytes[index - 1] == UInt8(ascii: ";")
        {
          break
        }
        if syntax.blockComments, byte == UInt8(ascii: "/"), index + 1 < end, bytes[index + 1] == UInt8(ascii: "*") {
          mode = .blockComment
          index += 2
          continue
        }
        switch byte {
        case UInt8(ascii: "\""):
          note(byte)
          if syntax.tripleQuoteStrings, index + 2 < end, bytes[index + 1] == byte, bytes[index + 2] == byte {
            mode = .triple
            index += 3
            continue
          }
          index = skipString(bytes, from: index + 1, to: end, quote: byte)
          continue
        case UInt8(ascii: "'"):
          note(byte)
          if syntax.singleQuote == .string {
            index = skipString(bytes, from: index + 1, to: end, quote: byte)
          } else if index + 1 < end, bytes[index + 1] == UInt8(ascii: "\\") {
            let close = bytes[(index + 2)..<min(end, index + 12)].firstIndex(of: byte)
            index = close.map { $0 + 1 } ?? index + 1
          } else if index + 2 < end, bytes[index + 2] == byte {
            index += 3
          } else {
            index += 1  // a Rust lifetime or a stray apostrophe
          }
          continue
        case UInt8(ascii: "`") where syntax.backtickStrings:
          note(byte)
          mode = .backtick
          index += 1
          continue
        case UInt8(ascii: "{"):
          depth += 1
        case UInt8(ascii: "}"):
          depth = max(0, depth - 1)
        case UInt8(ascii: "("), UInt8(ascii: "["):
          if !syntax.bracesOnly { depth += 1 }
        case UInt8(ascii: ")"), UInt8(ascii: "]"):
          if !syntax.bracesOnly { depth = max(0, depth - 1) }
        default:
          if byte.isIdentifierByte && !(byte >= 0x30 && byte <= 0x39) {
            var wordEnd = index
            while wordEnd < end, bytes[wordEnd].isIdentifierByte { wordEnd += 1 }
            let isFirst = fact.firstCode == 0
            if syntax.rubyKeywords, previousCode != UInt8(ascii: "."), previousCode != UInt8(ascii: ":") {
              let word = String(decoding: bytes[index..<wordEnd], as: UTF8.self)
              if word == "end" {
                depth = max(0, depth - 1)
              } else if word == "do"
                || (Self.rubyOpeners.contains(word) && (isFirst || previousCode == UInt8(ascii: "=") || previousCode == UInt8(ascii: "(")))
              {
                depth += 1
              }
            }
            note(bytes[wordEnd - 1])
            lastWord = index..<wordEnd
            if isFirst { firstWord = index..<wordEnd }
            previousCode = bytes[wordEnd - 1]
            index = wordEnd
            continue
          }
        }
        note(byte)
        previousCode = byte
        index += 1
      }
      // Words as strings once per line, not per identifier: this loop runs over every byte of a full index.
      fact.firstWord = firstWord.map { String(decoding: bytes[$0], as: UTF8.self) }
      fact.lastWord = lastWord.map { String(decoding: bytes[$0], as: UTF8.self) }
      if mode == .code, syntax.closingWords.contains("}"), fact.lastCode == UInt8(ascii: "}") { fact.lastWord = "}" }
      fact.depthAtEnd = depth
      result[line] = fact
    }
    return result
  }

  /// Index after the closing quote, or the end of the line for an unterminated string.
  private func skipString(_ bytes: [UInt8], from start: Int, to end: Int, quote: UInt8) -> Int {
    var index = start
    while index < end {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\\") {
        index += 2
        continue
      }
      if byte == quote { return index + 1 }
      index += 1
    }
    return end
  }
}

/// Recognises the name a line of code defines: `func name`, `class Name`, `fn name`,
/// `int name(…) {`, `func (r *Recv) Name(`.
enum DefinitionName {
  private static let keywords: Set<String> = [
    "class", "struct", "enum", "protocol", "extension", "actor", "interface", "trait", "impl", "fn", "func", "function",
    "def", "module", "namespace", "object", "fun", "record", "type", "typealias", "union", "macro", "mod", "message",
    "service", "resource", "data", "variable", "output",
  ]
  /// Lines that import or declare a package: not definitions.
  private static let headerWords: Set<String> = ["import", "use", "using", "include", "require", "from", "package", "library", "extern"]
  private static let bindings: Set<String> = ["let", "var", "val", "const"]
  private static let namedKeywords: Set<String> = ["init", "deinit", "subscript", "constructor"]
  private static let notNames: Set<String> = [
    "if", "for", "while", "switch", "catch", "return", "sizeof", "typeof", "new", "throw", "else", "do", "try", "await",
    "yield", "elif", "until", "when", "foreach", "using", "lock", "fixed", "synchronized", "assert", "super", "this",
    "print", "println", "echo", "require", "include", "define", "defined", "case", "with", "match", "not", "and", "or",
  ]

  static func find(in body: ArraySlice<UInt8>, syntax: BlockSyntax, lastCode: UInt8, bindings allowBindings: Bool) -> String? {
    if syntax.parenthesisNames, ["c", "cpp", "objective-c"].contains(syntax.language),
      let name = nameBeforeParenthesis(body, lastCode: lastCode, syntax: syntax)
    {
      return name
    }
    let tokens = words(body)
    if let first = tokens.first?.text, headerWords.contains(first) { return nil }
    for (position, token) in tokens.enumerated() {
      let word = token.text
      if namedKeywords.contains(word), position == tokens.count - 1 || body[token.end...].first(where: { $0 != 0x20 }) == UInt8(ascii: "(")
      {
        return word
      }
      let isBinding = allowBindings && syntax.bindingKeywords && bindings.contains(word)
      guard keywords.contains(word) || isBinding else { continue }
      if word == "func", syntax.language == "go", let receiver = goReceiver(body, after: token.end) {
        return receiver
      }
      var rest = tokens[(position + 1)...]
      if word == "impl", let forIndex = rest.firstIndex(where: { $0.text == "for" }) { rest = rest[(forIndex + 1)...] }
      while let first = rest.first, first.text == "self" || first.text == "static" || first.text == "class" && word != "class" {
        rest = rest.dropFirst()
      }
      guard let next = rest.first else { return nil }
      if bindings.contains(word), !next.text.first!.isLetter && next.text.first != "_" && next.text.first != "$" { return nil }
      return next.text
    }
    if syntax.parenthesisNames { return nameBeforeParenthesis(body, lastCode: lastCode, syntax: syntax) }
    return nil
  }

  private struct Word {
    var text: String
    var end: Int
  }

  /// Identifier-like words (dots and `::` kept inside), skipping `@attributes`, strings and `<…>`.
  private static func words(_ body: ArraySlice<UInt8>) -> [Word] {
    var result: [Word] = []
    var index = body.startIndex
    var angle = 0
    while index < body.endIndex {
      let byte = body[index]
      if byte == UInt8(ascii: "<") {
        angle += 1
      } else if byte == UInt8(ascii: ">"), angle > 0 {
        angle -= 1
      } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`") {
        index += 1
        while index < body.endIndex, body[index] != byte { index += 1 }
      } else if byte == UInt8(ascii: "/"), index + 1 < body.endIndex, body[index + 1] == UInt8(ascii: "/") {
        break
      } else if angle == 0, byte.isIdentifierByte || byte == UInt8(ascii: "$") {
        let start = index
        while index < body.endIndex,
          body[index].isIdentifierByte || body[index] == UInt8(ascii: "$") || body[index] == UInt8(ascii: "?")
            || body[index] == UInt8(ascii: "!")
            || (body[index] == UInt8(ascii: ".") && index + 1 < body.endIndex && body[index + 1].isIdentifierByte)
        {
          index += 1
        }
        let attribute = start > body.startIndex && body[start - 1] == UInt8(ascii: "@")
        if !attribute { result.append(Word(text: String(decoding: body[start..<index], as: UTF8.self), end: index)) }
        continue
      }
      index += 1
    }
    return result
  }

  /// `func (s *Server) Start(` gives `Server.Start`.
  private static func goReceiver(_ body: ArraySlice<UInt8>, after: Int) -> String? {
    let rest = body[after...].drop(while: { $0 == 0x20 })
    guard rest.first == UInt8(ascii: "("), let close = rest.firstIndex(of: UInt8(ascii: ")")) else { return nil }
    let receiver = words(rest[rest.startIndex..<close]).last?.text
    let name = words(body[(close + 1)...]).first?.text
    guard let name else { return nil }
    return receiver.map { "\($0).\(name)" } ?? name
  }

  /// The identifier just before the first `(` that follows no `@attribute`.
  private static func nameBeforeParenthesis(_ body: ArraySlice<UInt8>, lastCode: UInt8, syntax: BlockSyntax) -> String? {
    if lastCode == UInt8(ascii: ";") || lastCode == UInt8(ascii: ",") { return nil }
    if syntax.parenthesisNamesNeedBrace, lastCode != UInt8(ascii: "{") { return nil }
    if let first = words(body.prefix(16)).first?.text, notNames.contains(first) { return nil }
    var index = body.startIndex
    while let open = body[index...].firstIndex(of: UInt8(ascii: "(")) {
      var end = open
      while end > body.startIndex, body[end - 1] == 0x20 { end -= 1 }
      var start = end
      while start > body.startIndex,
        body[start - 1].isIdentifierByte || body[start - 1] == UInt8(ascii: ":") || body[start - 1] == UInt8(ascii: "~")
          || body[start - 1] == UInt8(ascii: ".")
      {
        start -= 1
      }
      let name = String(decoding: body[start..<end], as: UTF8.self)
      let attribute = start > body.startIndex && body[start - 1] == UInt8(ascii: "@")
      if !attribute {
        guard !name.isEmpty, let first = name.first, first.isLetter || first == "_" || first == "~", !notNames.contains(name) else {
          return nil
        }
        return name
      }
      index = open + 1
    }
    return nil
  }
}
