/// One logical Python line: a statement that may span physical lines (brackets, backslashes,
/// triple-quoted strings).
struct PythonStatement {
  /// 0-based first and last physical line.
  var firstLine: Int
  var lastLine: Int
  /// Columns of indentation of the first line.
  var indent: Int
  /// The code with comments removed, string literals replaced by `""` and lines joined by spaces,
  /// up to the scanner's `codeLimit` bytes.
  var code: [UInt8]

  func starts(with keyword: String) -> Bool {
    let word = Array(keyword.utf8)
    guard code.count >= word.count, code[0..<word.count].elementsEqual(word) else { return false }
    guard code.count > word.count else { return true }
    let next = code[word.count]
    return !(next.isIdentifierByte)
  }

  /// The identifier after `def`, `async def` or `class`, if the statement is one.
  var definitionName: (kind: String, name: String)? {
    var rest = code[...]
    if starts(with: "async") { rest = rest.dropFirst(5).drop(while: { $0 == 0x20 || $0 == 0x09 }) }
    for kind in ["def", "class"] {
      let word = Array(kind.utf8)
      guard rest.starts(with: word), rest.count > word.count, !rest[rest.startIndex + word.count].isIdentifierByte else { continue }
      let name = rest.dropFirst(word.count).drop(while: { $0 == 0x20 || $0 == 0x09 }).prefix(while: { $0.isIdentifierByte })
      return name.isEmpty ? nil : (kind, String(decoding: name, as: UTF8.self))
    }
    return nil
  }
}

/// A rough error found while scanning: enough to say a file does not parse, and where.
struct PythonSyntaxIssue: Equatable {
  var line: Int
  var message: String
}

/// A hand-written scanner that splits Python source into logical lines without parsing it.
struct PythonScanner {
  var statements: [PythonStatement] = []
  var issue: PythonSyntaxIssue? = nil

  init(_ document: SourceDocument, lines: Range<Int>? = nil, codeLimit: Int = .max) {
    var brackets: [(byte: UInt8, line: Int)] = []
    var triple: (quote: UInt8, line: Int)? = nil
    // A one-line string continued by a backslash at the end of its line (`'text \`).
    var single: UInt8? = nil
    var continued = false
    var current: PythonStatement? = nil
    func report(_ line: Int, _ message: String) {
      if issue == nil { issue = PythonSyntaxIssue(line: line + 1, message: message) }
    }
    func append(_ byte: UInt8) {
      if current!.code.count < codeLimit { current!.code.append(byte) }
    }

    for line in lines ?? 0..<document.lineCount {
      let bytes = document.byteSlice(line)
      var index = bytes.startIndex
      if current == nil {
        if document.blank[line] { continue }
        let body = bytes.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0C })
        if body.first == UInt8(ascii: "#") { continue }
        current = PythonStatement(firstLine: line, lastLine: line, indent: document.indent(line), code: [])
        index = body.startIndex
      } else if current!.code.last != 0x20 {
        append(0x20)
      }
      current!.lastLine = line
      var lastCode: UInt8 = 0
      while index < bytes.endIndex {
        let byte = bytes[index]
        if let quote = single {
          if byte == UInt8(ascii: "\\") {
            index += 2
            continue
          }
          if byte == quote { single = nil }
          index += 1
          continue
        }
        if let open = triple {
          if byte == UInt8(ascii: "\\") {
            index += 2
            continue
          }
          if byte == open.quote, index + 2 < bytes.endIndex, bytes[index + 1] == byte, bytes[index + 2] == byte {
            triple = nil
            index += 3
            lastCode = UInt8(ascii: "\"")
            continue
          }
          index += 1
          continue
        }
        switch byte {
        case UInt8(ascii: "#"):
          index = bytes.endIndex
          continue
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
          append(UInt8(ascii: "\""))
          append(UInt8(ascii: "\""))
          lastCode = byte
          if index + 2 < bytes.endIndex, bytes[index + 1] == byte, bytes[index + 2] == byte {
            triple = (byte, line)
            index += 3
            continue
          }
          index += 1
          single = byte
          continue
        case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
          brackets.append((byte, line))
        case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
          let expected: UInt8 =
            byte == UInt8(ascii: ")") ? UInt8(ascii: "(") : (byte == UInt8(ascii: "]") ? UInt8(ascii: "[") : UInt8(ascii: "{"))
          if let open = brackets.popLast() {
            if open.byte != expected {
              report(
                line,
                "'\(Character(Unicode.Scalar(byte)))' does not match '\(Character(Unicode.Scalar(open.byte)))' on line \(open.line + 1)")
            }
          } else {
            report(line, "unmatched '\(Character(Unicode.Scalar(byte)))'")
          }
        default:
          break
        }
        if byte != 0x20, byte != 0x09, byte != 0x0D { lastCode = byte }
        append(byte)
        index += 1
      }
      if single != nil {
        // A backslash before the line break continues the string on the next line.
        if !Self.endsWithEscape(bytes) {
          report(line, "unterminated string literal")
          single = nil
        }
      }
      continued = (lastCode == UInt8(ascii: "\\") && triple == nil) || single != nil
      if continued, current!.code.last == UInt8(ascii: "\\") { current!.code.removeLast() }
      if brackets.isEmpty, triple == nil, !continued {
        // What a comment or the line end left behind (`if x:  # note`): the code ends at its last token.
        while let last = current!.code.last, last == 0x20 || last == 0x09 || last == 0x0D || last == 0x0C { current!.code.removeLast() }
        statements.append(current!)
        current = nil
      }
    }
    if let open = triple { report(open.line, "unterminated triple-quoted string") }
    if let open = brackets.first { report(open.line, "'\(Character(Unicode.Scalar(open.byte)))' was never closed") }
    if let current { statements.append(current) }
  }
}

extension PythonScanner {
  /// Whether the line ends with a backslash that is not itself escaped.
  static func endsWithEscape(_ bytes: ArraySlice<UInt8>) -> Bool {
    var count = 0
    var index = bytes.endIndex
    while index > bytes.startIndex, bytes[index - 1] == UInt8(ascii: "\\") {
      count += 1
      index -= 1
    }
    return count % 2 == 1
  }
}

extension UInt8 {
  var isIdentifierByte: Bool {
    (self >= 0x61 && self <= 0x7A) || (self >= 0x41 && self <= 0x5A) || (self >= 0x30 && self <= 0x39) || self == 0x5F || self >= 0x80
  }
}
