// Python: cut by top-level classes and functions (the statements come from PythonScanner, which the
// project analyzer shares).

/// Python, by top-level classes and functions (decorators and leading comments kept with them);
/// oversized classes by their methods, with the symbol `Class.method`.
struct PythonStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    let scanner = PythonScanner(document, codeLimit: 64)
    return memberSections(document, statements: scanner.statements[...], range: 0..<document.lineCount, indent: 0, owner: nil)
  }

  func refine(_ section: Section, _ document: SourceDocument) -> [Section]? {
    guard let symbol = section.symbol else { return nil }
    // Only classes have members worth cutting along; a long function is cut by lines.
    let scanner = PythonScanner(document, lines: section.lines, codeLimit: 64)
    guard let header = scanner.statements.first(where: { $0.definitionName != nil }), header.definitionName?.kind == "class",
      let body = scanner.statements.first(where: { $0.firstLine > header.lastLine }), body.indent > header.indent
    else { return nil }
    let members = scanner.statements.drop(while: { $0.firstLine <= header.lastLine })
    return memberSections(document, statements: members, range: section.lines, indent: body.indent, owner: symbol)
  }

  /// Sections of `range` cut before each definition (with its decorators and the comments just above
  /// it) and before each run of other statements at `indent`.
  private func memberSections(
    _ document: SourceDocument, statements: ArraySlice<PythonStatement>, range: Range<Int>, indent: Int, owner: String?
  ) -> [Section] {
    var boundaries: [Int] = []
    var names: [Int: String] = [:]
    var previousWasDefinition = false
    var pendingDecorator: Int? = nil
    for statement in statements where statement.indent == indent {
      if statement.code.first == UInt8(ascii: "@") {
        if pendingDecorator == nil { pendingDecorator = statement.firstLine }
        continue
      }
      if let (_, name) = statement.definitionName {
        var start = pendingDecorator ?? statement.firstLine
        while start > range.lowerBound, start - 1 > (boundaries.last ?? range.lowerBound), isComment(document, start - 1, indent: indent) {
          start -= 1
        }
        boundaries.append(start)
        names[start] = owner.map { "\($0).\(name)" } ?? name
        previousWasDefinition = true
      } else if pendingDecorator == nil, previousWasDefinition {
        boundaries.append(statement.firstLine)
        names[statement.firstLine] = owner
        previousWasDefinition = false
      } else if let decorator = pendingDecorator {
        boundaries.append(decorator)
        names[decorator] = owner
        previousWasDefinition = false
      }
      pendingDecorator = nil
    }
    return Chunking.sections(in: range, boundaries: boundaries, symbol: { names[$0.lowerBound] ?? owner })
  }

  private func isComment(_ document: SourceDocument, _ line: Int, indent: Int) -> Bool {
    guard !document.blank[line], document.indent(line) == indent else { return false }
    return document.byteSlice(line).first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "#")
  }
}
