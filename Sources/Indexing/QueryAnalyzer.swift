import Chunking
import Foundation
import GitRAGCore

/// What a query says, read the way a developer reads a bug report: its title, the code it names,
/// the traceback frames and file paths it quotes, and the prose around them.
public struct QueryAnalysis: Sendable, Hashable {
  /// One frame of a quoted traceback (`File "…/requests/models.py", line 12, in prepare_body`).
  public struct Frame: Sendable, Hashable {
    public var path: String
    public var line: Int?
    public var function: String?
  }

  /// The first non-empty line, when the query has more than one line (a report's title).
  public var title: String?
  /// Traceback frames, in the order quoted.
  public var frames: [Frame] = []
  /// File paths mentioned anywhere (frames included), as written.
  public var paths: [String] = []
  /// Dotted names (`xr.combine_by_coords`, `requests.sessions`, `Session.resolve_redirects`).
  public var dottedNames: [String] = []
  /// Names the report's code imports, as dotted names (`from sympy import pycode` gives
  /// `sympy.pycode`; `import astropy.units` gives `astropy.units`).
  public var importedNames: [String] = []
  /// Identifiers the title names (the whole query's, when it is one line): what the report is about.
  public var namedInTitle: [String] = []
  /// Code identifiers: snake_case, camelCase, names in backticks, called names, exception types.
  public var identifiers: [String] = []
  /// The query has the shape of a bug report: several lines with code, a traceback or identifiers.
  public var looksLikeBugReport: Bool { !frames.isEmpty || (title != nil && identifiers.count >= 2) }
  /// The query's title is about documentation or tests, so those files are what the user wants.
  public var mentionsDocsOrTests = false
}

/// Reads a free-text query (a question, a few identifiers, or a whole bug report).
public enum QueryAnalyzer {
  public static func analyze(_ query: String) -> QueryAnalysis {
    var analysis = QueryAnalysis()
    let lines = query.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    let nonEmpty = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    if nonEmpty.count > 1 { analysis.title = nonEmpty[0] }

    var paths = OrderedSet(), dotted = OrderedSet(), identifiers = OrderedSet()
    for line in lines {
      if let frame = frame(in: line) {
        analysis.frames.append(frame)
        paths.insert(frame.path)
        if let function = frame.function { identifiers.insert(function) }
      }
    }
    let body = reportBody(query).joined(separator: "\n")
    collectCode(in: body, paths: &paths, dotted: &dotted, identifiers: &identifiers)
    // The code a title (or a one-line query) names is what the report is about.
    var titlePaths = OrderedSet(), titleDotted = OrderedSet(), titleNames = OrderedSet()
    collectCode(
      in: analysis.title ?? (nonEmpty.count == 1 ? nonEmpty[0] : ""), paths: &titlePaths, dotted: &titleDotted, identifiers: &titleNames)
    // A title word the body's code calls (`Rational calc value error` over `Rational(0.5, 100)`)
    // is code too, though it reads as a word.
    if let title = analysis.title, titleCallsCount {
      let titleWords = Set(title.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init))
      for name in calledNames(in: body) where titleWords.contains(name) { titleNames.insert(name) }
    }
    analysis.namedInTitle = titleNames.items
    for constant in languageConstants { identifiers.remove(constant) }
    analysis.paths = paths.items
    analysis.importedNames = importedNames(in: body)
    analysis.dottedNames = dotted.items
    analysis.identifiers = identifiers.items
    // Reports often cite the docs in passing; only a title about them makes docs the target.
    let titleWords = Set(CodeTokenizer.terms(analysis.title ?? query))
    analysis.mentionsDocsOrTests = !titleWords.isDisjoint(with: [
      "doc", "docs", "documentation", "docstring", "typo", "readme", "changelog", "test", "tests",
    ])
    return analysis
  }

  /// Dotted names of what the Python import lines of `text` import (interpreter prompts such as
  /// `>>> ` and `In [3]: ` are skipped; relative and star imports name nothing outside).
  static func importedNames(in text: String) -> [String] {
    var names = OrderedSet()
    for line in text.split(whereSeparator: \.isNewline) {
      var code = line.trimmingCharacters(in: .whitespaces)
      for prompt in [">>>", "..."] where code.hasPrefix(prompt) { code = code.dropFirst(prompt.count).trimmingCharacters(in: .whitespaces) }
      if code.hasPrefix("In ["), let close = code.range(of: "]:") { code = code[close.upperBound...].trimmingCharacters(in: .whitespaces) }
      guard code.hasPrefix("from ") || code.hasPrefix("import ") else { continue }
      for reference in code.split(separator: ";").flatMap({ PythonImport.parse($0.trimmingCharacters(in: .whitespaces)) })
      where reference.level == 0 && isModuleName(reference.module) {
        if reference.names.isEmpty { names.insert(reference.module) }
        for name in reference.names where name != "*" && isModuleName(name) { names.insert(reference.module + "." + name) }
      }
    }
    return names.items
  }

  private static func isModuleName(_ name: String) -> Bool {
    !name.isEmpty
      && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
        part.first.map { $0.isLetter || $0 == "_" } == true && part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
      }
  }

  /// Names written as calls (`name(`) of three or more characters, in order; definitions
  /// (`def name(`, also as a traceback quotes them: `2096 def chunks(self)`) and traceback frames
  /// (`…/dataset.py:2110, in Dataset.chunks(self)`) call nothing.
  static func calledNames(in text: String) -> [String] {
    var names = OrderedSet()
    var current = ""
    let code = text.split(whereSeparator: \.isNewline).filter { line in
      let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
      return !trimmed.contains("def ") && !trimmed.contains(", in ") && !trimmed.hasPrefix("File ")
    }.joined(separator: "\n")
    for character in code {
      if character.isLetter || character.isNumber || character == "_" {
        current.append(character)
        continue
      }
      if character == "(", current.count >= 3, let first = current.first, first.isLetter || first == "_" { names.insert(current) }
      current = ""
    }
    return names.items
  }

  // A benchmark-only switch (GIT_RAG_RANK_TUNING, see SearchEngine) to measure this rule.
  static let titleCallsCount = ProcessInfo.processInfo.environment["GIT_RAG_RANK_TUNING"]?.contains("titleCalls=0") != true

  /// Constants and receivers of common languages: code, but they name nothing in particular.
  static let languageConstants = ["True", "False", "None", "true", "false", "null", "nil", "self", "this", "undefined", "NULL"]

  /// Paths, dotted names and identifiers written in `text`.
  private static func collectCode(in text: String, paths: inout OrderedSet, dotted: inout OrderedSet, identifiers: inout OrderedSet) {
    for word in words(text) {
      let trimmed = word.trimmingCharacters(in: CharacterSet(charactersIn: ".:,;()[]{}<>'\"`*=!?"))
      guard !trimmed.isEmpty, !trimmed.contains("://"), !trimmed.hasPrefix("@") else { continue }
      if isPath(trimmed) {
        paths.insert(trimmed)
      } else if isDottedName(trimmed) {
        dotted.insert(trimmed)
        // Attribute and method names after the first part are code (`ds.stack`, `xr.Dataset.copy`);
        // the first part is usually a variable or an import alias (`ds`, `np`) unless it is a class.
        for (index, part) in trimmed.split(separator: ".").enumerated()
        where index > 0 && (part.count >= 3 || isIdentifier(part)) || index == 0 && part.first!.isUppercase && part.count >= 3 {
          identifiers.insert(String(part))
        }
      } else if isIdentifier(Substring(trimmed)) {
        identifiers.insert(trimmed)
      }
    }
    for quoted in backticked(text) where quoted.count <= 60 {
      for part in quoted.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }) where part.count >= 3 {
        if part.first!.isLetter || part.first == "_" { identifiers.insert(String(part)) }
      }
    }
  }

  /// The lines of `query` that are the reporter's own words and code: without HTML comments,
  /// template checklists (`- [x] ...`), markdown headings after the title, traceback frame lines,
  /// and environment dumps (a run of four or more `key: value` lines).
  static func reportBody(_ query: String) -> [Substring] {
    var text = query
    while let start = text.range(of: "<!--") {
      let end = text.range(of: "-->", range: start.upperBound..<text.endIndex)?.upperBound ?? text.endIndex
      text.removeSubrange(start.lowerBound..<end)
    }
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    var keep = [Bool](repeating: true, count: lines.count)
    var run: [Int] = []
    func closeRun() {
      if run.count >= 4 { for index in run { keep[index] = false } }
      run.removeAll()
    }
    for (index, line) in lines.enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.allSatisfy({ $0 == "-" || $0 == "=" }) { continue }
      if isKeyValue(trimmed) { run.append(index); continue }
      closeRun()
      if trimmed.hasPrefix("- [") || trimmed.hasPrefix("* [")
        || trimmed.hasPrefix("#") && index > 0 && trimmed.dropFirst().first.map({ $0 == "#" || $0 == " " }) == true
        || trimmed.hasPrefix("Traceback (most recent call last)") || frame(in: line) != nil || trimmed == "_No response_"
      {
        keep[index] = false
      }
    }
    closeRun()
    return zip(lines, keep).filter(\.1).map(\.0)
  }

  /// `name: value` with a one-word name, as in environment dumps and config listings.
  private static func isKeyValue(_ line: String) -> Bool {
    guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return false }
    let key = line[..<colon]
    let after = line[line.index(after: colon)...]
    guard key.count <= 30, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }),
      after.first == " " || after.isEmpty
    else { return false }
    return true
  }

  /// One traceback frame in any of the shapes reports paste:
  /// - Python: `File "…/requests/models.py", line 12, in prepare_body`;
  /// - IPython 8: `File ~/…/xarray/core/dataset.py:2110, in Dataset.chunks(self)`;
  /// - IPython 7: `~/…/seaborn/axisgrid.py in map(self, func, **kwargs)`;
  /// - pytest: `…\\astropy\\units\\quantity.py:617: in __array_ufunc__` (Windows separators become `/`).
  ///
  /// A method's frame (`Dataset.chunks`) gives its name (`chunks`); `<module>` and `<listcomp>` give none.
  static func frame(in line: Substring) -> QueryAnalysis.Frame? {
    let text = line.trimmingCharacters(in: .whitespaces)
    if text.hasPrefix("File \""), let close = text.dropFirst(6).firstIndex(of: "\"") {
      let path = String(text[text.index(text.startIndex, offsetBy: 6)..<close])
      let rest = text[text.index(after: close)...]
      var lineNumber: Int?
      if let range = rest.range(of: "line ") {
        lineNumber = Int(rest[range.upperBound...].prefix(while: \.isNumber))
      }
      let function = rest.range(of: ", in ").flatMap { frameFunction(rest[$0.upperBound...]) }
      return QueryAnalysis.Frame(path: path, line: lineNumber, function: function)
    }
    // The unquoted shapes: a path ending in `.py`, then `:LINE, in`, `:LINE: in`, `:LINE: Error` or ` in`.
    let body = text.hasPrefix("File ") ? text.dropFirst(5) : Substring(text)
    guard let end = body.range(of: ".py")?.upperBound else { return nil }
    let path = body[..<end].replacingOccurrences(of: "\\", with: "/")
    guard path.contains("/"), !path.contains(where: \.isWhitespace) else { return nil }
    var rest = body[end...]
    var lineNumber: Int?
    if rest.hasPrefix(":") {
      let digits = rest.dropFirst().prefix(while: \.isNumber)
      guard !digits.isEmpty else { return nil }
      lineNumber = Int(digits)
      rest = rest.dropFirst(1 + digits.count)
      if rest.hasPrefix(":") || rest.hasPrefix(",") { rest = rest.dropFirst() }
    }
    rest = rest.drop(while: \.isWhitespace)
    if rest.hasPrefix("in ") {
      let call = rest.dropFirst(3)
      // Without a line number only IPython's `in name(args…)` is a frame, not prose.
      guard lineNumber != nil || call.drop(while: { $0 != "(" && !$0.isWhitespace }).hasPrefix("(") else { return nil }
      return QueryAnalysis.Frame(path: path, line: lineNumber, function: frameFunction(call))
    }
    // pytest's last line names the exception raised at PATH:LINE.
    if lineNumber != nil, let word = rest.split(separator: " ").first, word.hasSuffix("Error") || word.hasSuffix("Exception") {
      return QueryAnalysis.Frame(path: path, line: lineNumber, function: nil)
    }
    return nil
  }

  /// The function a frame names, `Class.method(args…)` giving `method`; nil for `<module>` and the like.
  private static func frameFunction(_ text: Substring) -> String? {
    let dotted = text.trimmingCharacters(in: .whitespaces).prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
    guard let name = dotted.split(separator: ".").last, let first = name.first, first.isLetter || first == "_" else { return nil }
    return String(name)
  }

  /// Whitespace-separated words, with markdown link and code punctuation kept for trimming.
  private static func words(_ text: String) -> [String] {
    text.split(whereSeparator: { $0.isWhitespace || $0 == "(" || $0 == ")" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "=" })
      .map(String.init)
  }

  private static func backticked(_ text: String) -> [Substring] {
    let parts = text.split(separator: "`", omittingEmptySubsequences: false)
    guard parts.count >= 3 else { return [] }
    // Odd-numbered pieces sit between backticks; fenced blocks (```) give empty neighbours.
    return stride(from: 1, to: parts.count - 1, by: 2).map { parts[$0] }.filter { !$0.isEmpty && !$0.contains("\n") }
  }

  /// Extensions that make a word a file path even without a slash.
  static let sourceExtensions: Set<String> = [
    "py", "pyi", "pyx", "swift", "js", "mjs", "ts", "tsx", "jsx", "go", "rs", "java", "kt", "scala", "c", "h", "cc",
    "cpp", "hpp", "m", "mm", "cs", "rb", "php", "sh", "pl", "lua", "r", "ex", "exs", "erl", "hs", "ml", "dart", "zig",
    "jl", "vue", "svelte", "sql", "proto", "toml", "yaml", "yml", "json", "cfg", "ini", "md", "rst", "txt",
  ]

  static func isPath(_ word: String) -> Bool {
    guard word.count >= 3, !word.hasPrefix("-") else { return false }
    let name = word.split(separator: "/").last.map(String.init) ?? word
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
    let ext = name[name.index(after: dot)...].lowercased()
    return sourceExtensions.contains(ext) && word.allSatisfy(isPathCharacter)
  }

  private static func isPathCharacter(_ c: Character) -> Bool {
    c.isLetter || c.isNumber || c == "/" || c == "." || c == "_" || c == "-" || c == "\\" || c == "~"
  }

  static func isDottedName(_ word: String) -> Bool {
    let parts = word.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count >= 2 && parts.contains { $0.count >= 3 }
      && parts.allSatisfy { part in
        guard let first = part.first, first.isLetter || first == "_" else { return false }
        return part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
      }
  }

  /// Looks like code rather than a word of prose: has `_` inside, an inner capital, or ends in a digit after letters.
  static func isIdentifier(_ word: Substring) -> Bool {
    guard word.count >= 3, let first = word.first, first.isLetter || first == "_",
      word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
    else { return false }
    let core = word.drop(while: { $0 == "_" })
    if core.dropLast().contains("_") { return true }
    let inner = core.dropFirst()
    if inner.contains(where: \.isUppercase) && inner.contains(where: \.isLowercase) { return true }
    return false
  }
}

/// Insertion-ordered unique strings.
private struct OrderedSet {
  private(set) var items: [String] = []
  private var seen: Set<String> = []
  mutating func insert(_ item: String) {
    if seen.insert(item).inserted { items.append(item) }
  }
  mutating func remove(_ item: String) {
    if seen.remove(item) != nil { items.removeAll { $0 == item } }
  }
}
