import Foundation

/// A summary of a Python project's modules and how they import each other, indexed as one extra
/// document so questions about structure ("what uses the config module?") find an answer.
///
/// Two steps: `PythonFileFacts` of each file (from its bytes alone, so they can be cached by blob
/// id), then `summarize(modules:)` over every `(path, facts)` pair (module names and import
/// resolution depend on all paths).
public enum PythonAnalyzer {
  /// The path the summary is indexed under.
  public static let virtualPath = ".rag_metadata/analysis.txt"
  /// Projects with up to this many modules get the module-by-module listing; larger ones a
  /// bounded overview by package, so one change rarely rewrites the document.
  public static let fullListingLimit = 300
  /// Upper bound of the overview's size in bytes.
  public static let overviewByteLimit = 32 << 10

  /// The summary of `files` (Python sources; other paths are ignored): modules with their public
  /// classes and functions, the internal import graph, the most imported modules, and files that
  /// do not parse. Deterministic for the same input, whatever its order.
  public static func summarize(files: [(path: String, text: String)]) -> String {
    summarize(modules: files.filter { isPython($0.path) }.map { ($0.path, PythonFileFacts(text: $0.text)) })
  }

  /// The summary of already scanned files; equal to `summarize(files:)` of their texts.
  public static func summarize(modules input: [(path: String, facts: PythonFileFacts)]) -> String {
    let sources = input.filter { isPython($0.path) }.sorted { $0.path < $1.path }
    guard !sources.isEmpty else { return "" }
    let index = ModuleIndex(paths: sources.map(\.path))
    let modules = sources.map { PythonModule(path: $0.path, name: index.name(of: $0.path), facts: $0.facts) }
    var dependencies: [String: Set<String>] = [:]
    var external: [String: Set<String>] = [:]
    for module in modules {
      for reference in module.facts.imports {
        if let target = index.resolve(reference, from: module.path), target != module.name {
          dependencies[module.name, default: []].insert(target)
        } else if reference.level == 0, let top = reference.module.split(separator: ".").first {
          external[String(top), default: []].insert(module.name)
        }
      }
    }
    let graph = ImportGraph(modules: modules, dependencies: dependencies, external: external)
    return modules.count <= fullListingLimit ? graph.listing() : graph.overview()
  }

  static func isPython(_ path: String) -> Bool { path.hasSuffix(".py") || path.hasSuffix(".pyi") }
}

/// What one Python file declares, from its bytes alone: public top-level classes and functions,
/// imports, and the first syntax problem (what follows it is not trusted).
public struct PythonFileFacts: Sendable, Hashable {
  /// A syntax problem at a 1-based line.
  public struct Issue: Sendable, Hashable {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
      self.line = line
      self.message = message
    }
  }

  /// Changes whenever scanning or `encoded()` changes, so cached facts of older versions are not used.
  public static let version = 2

  public var classes: [String]
  public var functions: [String]
  public var imports: [PythonImport]
  public var issue: Issue?

  public init(classes: [String] = [], functions: [String] = [], imports: [PythonImport] = [], issue: Issue? = nil) {
    self.classes = classes
    self.functions = functions
    self.imports = imports
    self.issue = issue
  }

  /// Scans `text`.
  public init(text: String) {
    self.init()
    let document = SourceDocument(text: text, options: ChunkingOptions())
    let scanner = PythonScanner(document)
    issue = scanner.issue.map { Issue(line: $0.line, message: $0.message) }
    var previous: PythonStatement? = nil
    for statement in scanner.statements {
      if issue == nil, let previous, statement.indent > previous.indent, previous.code.last != UInt8(ascii: ":") {
        issue = Issue(line: statement.firstLine + 1, message: "unexpected indent")
      }
      // Keep what was read before the error, drop what a broken scan made of the rest.
      if let issue, statement.firstLine + 1 > issue.line { break }
      previous = statement
      if statement.indent == 0, let definition = statement.definitionName, !definition.name.hasPrefix("_") {
        if definition.kind == "class" { classes.append(definition.name) } else { functions.append(definition.name) }
      }
      let code = String(decoding: statement.code, as: UTF8.self)
      for part in code.split(separator: ";") { imports += PythonImport.parse(part.trimmingCharacters(in: .whitespaces)) }
    }
  }

  /// A compact binary form: varint counts and lengths, UTF-8 strings.
  public func encoded() -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    Self.put(issue.map { $0.line + 1 } ?? 0, &out)
    if let issue { Self.put(issue.message, &out) }
    Self.put(classes.count, &out)
    for name in classes { Self.put(name, &out) }
    Self.put(functions.count, &out)
    for name in functions { Self.put(name, &out) }
    Self.put(imports.count, &out)
    for reference in imports {
      Self.put(reference.level, &out)
      Self.put(reference.module, &out)
      Self.put(reference.names.count, &out)
      for name in reference.names { Self.put(name, &out) }
    }
    return out
  }

  /// Facts from `encoded()`; nil when the bytes are not a complete encoding.
  public init?(encoded bytes: UnsafeRawBufferPointer) {
    var reader = Reader(bytes: bytes)
    guard let facts = reader.facts(), reader.position == bytes.count else { return nil }
    self = facts
  }

  public init?(encoded bytes: [UInt8]) {
    guard let facts = bytes.withUnsafeBytes({ PythonFileFacts(encoded: $0) }) else { return nil }
    self = facts
  }

  private static func put(_ value: Int, _ out: inout [UInt8]) {
    var rest = UInt64(max(0, value))
    while rest >= 0x80 {
      out.append(UInt8(rest & 0x7F) | 0x80)
      rest >>= 7
    }
    out.append(UInt8(rest))
  }

  private static func put(_ string: String, _ out: inout [UInt8]) {
    put(string.utf8.count, &out)
    out.append(contentsOf: string.utf8)
  }

  private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    mutating func facts() -> PythonFileFacts? {
      var facts = PythonFileFacts()
      guard let issueLine = int() else { return nil }
      if issueLine > 0 {
        guard let message = string() else { return nil }
        facts.issue = Issue(line: issueLine - 1, message: message)
      }
      guard let classes = strings(), let functions = strings(), let count = int() else { return nil }
      facts.classes = classes
      facts.functions = functions
      facts.imports.reserveCapacity(count)
      for _ in 0..<count {
        guard let level = int(), let module = string(), let names = strings() else { return nil }
        facts.imports.append(PythonImport(level: level, module: module, names: names))
      }
      return facts
    }

    mutating func int() -> Int? {
      var value: UInt64 = 0
      var shift: UInt64 = 0
      while position < bytes.count, shift < 63 {
        let byte = bytes[position]
        position += 1
        value |= UInt64(byte & 0x7F) << shift
        if byte < 0x80 { return value <= UInt64(Int.max) ? Int(value) : nil }
        shift += 7
      }
      return nil
    }

    mutating func string() -> String? {
      guard let length = int(), length <= bytes.count - position else { return nil }
      let string = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<position + length]), as: UTF8.self)
      position += length
      return string
    }

    mutating func strings() -> [String]? {
      guard let count = int(), count <= bytes.count - position else { return nil }
      var out: [String] = []
      out.reserveCapacity(count)
      for _ in 0..<count {
        guard let string = string() else { return nil }
        out.append(string)
      }
      return out
    }
  }
}

/// An import as written: `import a.b` (level 0, module `a.b`), `from ..x import y` (level 2,
/// module `x`, names `[y]`).
public struct PythonImport: Sendable, Hashable {
  public var level: Int
  public var module: String
  public var names: [String]

  public init(level: Int, module: String, names: [String]) {
    self.level = level
    self.module = module
    self.names = names
  }

  /// The imports of one logical line of code (`import a, b`, `from .x import (y, z)`); none
  /// for any other line.
  public static func parse(_ code: String) -> [PythonImport] {
    let words = code.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard let first = words.first else { return [] }
    if first == "import" {
      return code.dropFirst(6).split(separator: ",").compactMap { item in
        let module = item.split(separator: " ").first.map(String.init) ?? ""
        return module.isEmpty ? nil : PythonImport(level: 0, module: module, names: [])
      }
    }
    guard first == "from", words.count >= 3,
      words[2] == "import" || (words.count >= 4 && words[1].allSatisfy({ $0 == "." }) && words[2] == "import")
    else {
      return []
    }
    let source = String(words[1])
    let level = source.prefix(while: { $0 == "." }).count
    let module = String(source.dropFirst(level))
    guard let importRange = code.range(of: " import ") else { return [] }
    let names = code[importRange.upperBound...]
      .replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
      .split(separator: ",")
      .compactMap { $0.split(separator: " ").first.map(String.init) }
    return [PythonImport(level: level, module: module, names: names)]
  }
}

/// One file of the project with its module name.
struct PythonModule {
  let path: String
  let name: String
  let facts: PythonFileFacts
}

/// The resolved imports of a project and the two ways of writing them out.
struct ImportGraph {
  /// Sorted by path.
  let modules: [PythonModule]
  /// Importer module name → imported module names.
  let dependencies: [String: Set<String>]
  /// Top-level external package → importing module names.
  let external: [String: Set<String>]

  var broken: [PythonModule] { modules.filter { $0.facts.issue != nil } }

  private var header: String {
    let broken = broken.count
    return "Python project analysis\n\(modules.count) modules" + (broken > 0 ? ", \(broken) with syntax errors" : "") + "\n"
  }

  private var importers: [String: Set<String>] {
    var importers: [String: Set<String>] = [:]
    for (importer, targets) in dependencies {
      for target in targets { importers[target, default: []].insert(importer) }
    }
    return importers
  }

  private static func byCount(_ map: [String: Set<String>]) -> [(key: String, value: Set<String>)] {
    map.sorted(by: { ($1.value.count, $0.key) < ($0.value.count, $1.key) })
  }

  /// Every module with its classes, functions and imports, and the whole import graph.
  func listing() -> String {
    var out = header
    out += "\nModules:\n"
    for module in modules.sorted(by: { ($0.name, $0.path) < ($1.name, $1.path) }) {
      out += "\(module.name) (\(module.path))\n"
      let facts = module.facts
      if !facts.classes.isEmpty { out += "  classes: \(facts.classes.joined(separator: ", "))\n" }
      if !facts.functions.isEmpty { out += "  functions: \(facts.functions.joined(separator: ", "))\n" }
      if let targets = dependencies[module.name], !targets.isEmpty { out += "  imports: \(targets.sorted().joined(separator: ", "))\n" }
      if let issue = facts.issue { out += "  syntax error on line \(issue.line): \(issue.message)\n" }
    }

    out += "\nInternal dependencies (importer -> imported):\n"
    if dependencies.isEmpty { out += "  none\n" }
    for (importer, targets) in dependencies.sorted(by: { $0.key < $1.key }) {
      out += "  \(importer) -> \(targets.sorted().joined(separator: ", "))\n"
    }

    appendImportRankings(to: &out, importersShown: nil)

    let broken = broken
    if !broken.isEmpty {
      out += "\nFiles with syntax errors (partly analysed):\n"
      for module in broken {
        out += "  \(module.path): line \(module.facts.issue!.line): \(module.facts.issue!.message)\n"
      }
    }
    return out
  }

  /// The most imported modules (with their importers, all or the first `importersShown`) and the
  /// external packages by how many modules import them.
  private func appendImportRankings(to out: inout String, importersShown: Int?) {
    let importers = importers
    out += "\nMost imported modules:\n"
    if importers.isEmpty { out += "  none\n" }
    for (target, by) in Self.byCount(importers).prefix(10) {
      let names = importersShown.map { Self.capped(by.sorted(), $0) } ?? by.sorted().joined(separator: ", ")
      out += "  \(target): imported by \(by.count) (\(names))\n"
    }
    if !external.isEmpty {
      out += "\nExternal packages imported:\n"
      for (package, by) in Self.byCount(external).prefix(20) {
        out += "  \(package): \(by.count) module\(by.count == 1 ? "" : "s")\n"
      }
    }
  }

  /// A bounded overview for large projects: packages (folders) with their module counts and
  /// public classes, dependencies between packages, the most imported modules, external packages
  /// and syntax errors, each section capped, at most `PythonAnalyzer.overviewByteLimit` bytes.
  func overview() -> String {
    var out = header
    out += "Large project: an overview by package (folder); the module-by-module listing is left out.\n"

    var packages: [String: (modules: Int, classes: [String])] = [:]
    var packageOfModule: [String: String] = [:]
    for module in modules {
      let folder = Self.folder(of: module.path)
      packages[folder, default: (0, [])].modules += 1
      packages[folder, default: (0, [])].classes += module.facts.classes
      if packageOfModule[module.name] == nil { packageOfModule[module.name] = folder }
    }
    out += "\nPackages (folder: modules; public classes):\n"
    Self.append(
      packages.sorted(by: { $0.key < $1.key }).map { folder, package in
        var line = "  \(folder): \(package.modules) module\(package.modules == 1 ? "" : "s")"
        if !package.classes.isEmpty { line += "; classes: " + Self.capped(package.classes, 8) }
        return line
      }, to: &out, budget: 16 << 10, noun: "packages")

    var packageDependencies: [String: Set<String>] = [:]
    for (importer, targets) in dependencies {
      guard let from = packageOfModule[importer] else { continue }
      for target in targets {
        if let to = packageOfModule[target], to != from { packageDependencies[from, default: []].insert(to) }
      }
    }
    out += "\nPackage dependencies (importer -> imported):\n"
    if packageDependencies.isEmpty { out += "  none\n" }
    Self.append(
      packageDependencies.sorted(by: { $0.key < $1.key }).map { "  \($0.key) -> " + Self.capped($0.value.sorted(), 12) },
      to: &out, budget: 6 << 10, noun: "packages")

    appendImportRankings(to: &out, importersShown: 10)

    let broken = broken
    if !broken.isEmpty {
      out += "\nFiles with syntax errors (partly analysed):\n"
      Self.append(
        broken.map { "  \($0.path): line \($0.facts.issue!.line): \(String($0.facts.issue!.message.prefix(200)))" },
        to: &out, budget: 4 << 10, noun: "files")
    }
    // The sections' budgets keep it far below the limit; this only guards against long names.
    if out.utf8.count > PythonAnalyzer.overviewByteLimit {
      var lines: [Substring] = []
      var size = 0
      for line in out.split(separator: "\n", omittingEmptySubsequences: false) {
        guard size + line.utf8.count + 1 <= PythonAnalyzer.overviewByteLimit - 64 else { break }
        lines.append(line)
        size += line.utf8.count + 1
      }
      out = lines.joined(separator: "\n") + "\n(truncated)\n"
    }
    return out
  }

  /// Appends `lines` while they fit in `budget` bytes, then one "and N more" line.
  private static func append(_ lines: [String], to out: inout String, budget: Int, noun: String) {
    var used = 0
    for (index, line) in lines.enumerated() {
      let line = line.utf8.count > 1024 ? String(decoding: line.utf8.prefix(1000), as: UTF8.self) + " …" : line
      if used + line.utf8.count + 1 > budget {
        out += "  … and \(lines.count - index) more \(noun)\n"
        return
      }
      out += line + "\n"
      used += line.utf8.count + 1
    }
  }

  /// The first `limit` names, then how many more.
  private static func capped(_ names: [String], _ limit: Int) -> String {
    names.count <= limit
      ? names.joined(separator: ", ") : names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
  }

  private static func folder(of path: String) -> String {
    let folder = ModuleIndex.directory(of: path)
    return folder.isEmpty ? "." : folder
  }
}

/// Module names of the project's files and the resolution of imports to them.
struct ModuleIndex {
  private var byPath: [String: String] = [:]
  private var byName: [String: String] = [:]
  /// Dotted path suffixes (`app.main` for `src/app/main.py`) for namespace packages and src layouts.
  private var bySuffix: [String: String] = [:]
  private var ambiguousSuffixes: Set<String> = []

  init(paths: [String]) {
    let packages = Set(paths.filter { $0.hasSuffix("/__init__.py") || $0 == "__init__.py" }.map { Self.directory(of: $0) })
    byPath.reserveCapacity(paths.count)
    byName.reserveCapacity(paths.count)
    var names: [String] = []
    names.reserveCapacity(paths.count)
    for path in paths {
      var parts: [String] = []
      let stem = Self.stem(of: path)
      if stem != "__init__" { parts.append(stem) }
      var directory = Self.directory(of: path)
      while !directory.isEmpty, packages.contains(directory) {
        parts.insert(String(directory.split(separator: "/").last!), at: 0)
        directory = Self.directory(of: directory)
      }
      let name =
        parts.isEmpty
        ? (Self.directory(of: path).isEmpty ? "__init__" : Self.directory(of: path).replacingOccurrences(of: "/", with: "."))
        : parts.joined(separator: ".")
      byPath[path] = name
      names.append(name)
      if byName[name] == nil { byName[name] = name }
    }
    bySuffix.reserveCapacity(paths.count * 2)
    for (path, name) in zip(paths, names) {
      var components = path.split(separator: "/")
      let last = Self.stem(of: path)
      components.removeLast()
      if last != "__init__" { components.append(last[...]) }
      // Shortest first: each suffix extends the previous one instead of joining again.
      var suffix = ""
      for start in components.indices.reversed() {
        suffix = start == components.count - 1 ? String(components[start]) : String(components[start]) + "." + suffix
        guard !suffix.isEmpty, byName[suffix] == nil else { continue }
        if let existing = bySuffix[suffix], existing != name { ambiguousSuffixes.insert(suffix) } else { bySuffix[suffix] = name }
      }
    }
  }

  func name(of path: String) -> String { byPath[path] ?? path }

  private func module(named name: String) -> String? {
    if let module = byName[name] { return module }
    if ambiguousSuffixes.contains(name) { return nil }
    return bySuffix[name]
  }

  /// The internal module an import refers to: the imported submodule if there is one, else the
  /// module itself, else its nearest known parent package.
  func resolve(_ reference: PythonImport, from path: String) -> String? {
    var base: String
    if reference.level > 0 {
      var directory = Self.directory(of: path)
      for _ in 1..<reference.level { directory = Self.directory(of: directory) }
      let packagePath = ([directory] + reference.module.split(separator: ".").map(String.init)).filter { !$0.isEmpty }.joined(
        separator: "/")
      if reference.module.isEmpty {
        base = byPath[(packagePath.isEmpty ? "" : packagePath + "/") + "__init__.py"] ?? ""
        for name in reference.names {
          let prefix = packagePath.isEmpty ? "" : packagePath + "/"
          if let module = byPath[prefix + name + ".py"] ?? byPath[prefix + name + "/__init__.py"] { return module }
        }
        return base.isEmpty ? nil : base
      }
      if let module = byPath[packagePath + ".py"] ?? byPath[packagePath + "/__init__.py"] {
        base = module
      } else {
        return nil
      }
    } else {
      base = reference.module
    }
    for name in reference.names where name != "*" {
      if let module = module(named: base + "." + name) { return module }
    }
    var candidate = base
    while !candidate.isEmpty {
      if let module = module(named: candidate) { return module }
      guard let dot = candidate.lastIndex(of: ".") else { break }
      candidate = String(candidate[..<dot])
    }
    return nil
  }

  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
  }

  static func stem(of path: String) -> String {
    let file = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
    guard let dot = file.lastIndex(of: ".") else { return String(file) }
    return String(file[..<dot])
  }
}
