import Foundation

/// A summary of a Python project's modules and how they import each other, indexed as one extra
/// document so questions about structure ("what uses the config module?") find an answer.
public enum PythonAnalyzer {
  /// The path the summary is indexed under.
  public static let virtualPath = ".rag_metadata/analysis.txt"

  /// The summary of `files` (Python sources; other paths are ignored): modules with their public
  /// classes and functions, the internal import graph, the most imported modules, and files that
  /// do not parse. Deterministic for the same input, whatever its order.
  public static func summarize(files: [(path: String, text: String)]) -> String {
    let sources = files.filter { $0.path.hasSuffix(".py") || $0.path.hasSuffix(".pyi") }.sorted { $0.path < $1.path }
    guard !sources.isEmpty else { return "" }
    let index = ModuleIndex(paths: sources.map(\.path))
    var modules: [PythonModule] = []
    for source in sources {
      modules.append(PythonModule(path: source.path, name: index.name(of: source.path), text: source.text))
    }
    var dependencies: [String: Set<String>] = [:]
    var external: [String: Set<String>] = [:]
    for module in modules {
      for reference in module.imports {
        if let target = index.resolve(reference, from: module.path), target != module.name {
          dependencies[module.name, default: []].insert(target)
        } else if reference.level == 0, let top = reference.module.split(separator: ".").first {
          external[String(top), default: []].insert(module.name)
        }
      }
    }

    var out = "Python project analysis\n"
    let broken = modules.filter { $0.issue != nil }
    out += "\(modules.count) modules"
    if !broken.isEmpty { out += ", \(broken.count) with syntax errors" }
    out += "\n\nModules:\n"
    for module in modules.sorted(by: { ($0.name, $0.path) < ($1.name, $1.path) }) {
      out += "\(module.name) (\(module.path))\n"
      if !module.classes.isEmpty { out += "  classes: \(module.classes.joined(separator: ", "))\n" }
      if !module.functions.isEmpty { out += "  functions: \(module.functions.joined(separator: ", "))\n" }
      if let targets = dependencies[module.name], !targets.isEmpty { out += "  imports: \(targets.sorted().joined(separator: ", "))\n" }
      if let issue = module.issue { out += "  syntax error on line \(issue.line): \(issue.message)\n" }
    }

    out += "\nInternal dependencies (importer -> imported):\n"
    if dependencies.isEmpty { out += "  none\n" }
    for (importer, targets) in dependencies.sorted(by: { $0.key < $1.key }) {
      out += "  \(importer) -> \(targets.sorted().joined(separator: ", "))\n"
    }

    var importers: [String: Set<String>] = [:]
    for (importer, targets) in dependencies {
      for target in targets { importers[target, default: []].insert(importer) }
    }
    out += "\nMost imported modules:\n"
    if importers.isEmpty { out += "  none\n" }
    for (target, by) in importers.sorted(by: { ($1.value.count, $0.key) < ($0.value.count, $1.key) }).prefix(10) {
      out += "  \(target): imported by \(by.count) (\(by.sorted().joined(separator: ", ")))\n"
    }

    if !external.isEmpty {
      out += "\nExternal packages imported:\n"
      for (package, by) in external.sorted(by: { ($1.value.count, $0.key) < ($0.value.count, $1.key) }).prefix(20) {
        out += "  \(package): \(by.count) module\(by.count == 1 ? "" : "s")\n"
      }
    }

    if !broken.isEmpty {
      out += "\nFiles with syntax errors (partly analysed):\n"
      for module in broken {
        out += "  \(module.path): line \(module.issue!.line): \(module.issue!.message)\n"
      }
    }
    return out
  }
}

/// An import as written: `import a.b` (level 0, module `a.b`), `from ..x import y` (level 2,
/// module `x`, names `[y]`).
struct ImportReference: Hashable {
  var level: Int
  var module: String
  var names: [String]
}

/// What the scanner learns about one module.
struct PythonModule {
  let path: String
  let name: String
  var classes: [String] = []
  var functions: [String] = []
  var imports: [ImportReference] = []
  var issue: PythonSyntaxIssue? = nil

  init(path: String, name: String, text: String) {
    self.path = path
    self.name = name
    let document = SourceDocument(text: text, options: ChunkingOptions())
    let scanner = PythonScanner(document)
    issue = scanner.issue
    var previous: PythonStatement? = nil
    for statement in scanner.statements {
      if issue == nil, let previous, statement.indent > previous.indent, previous.code.last != UInt8(ascii: ":") {
        issue = PythonSyntaxIssue(line: statement.firstLine + 1, message: "unexpected indent")
      }
      // Keep what was read before the error, drop what a broken scan made of the rest.
      if let issue, statement.firstLine + 1 > issue.line { break }
      previous = statement
      if statement.indent == 0, let definition = statement.definitionName, !definition.name.hasPrefix("_") {
        if definition.kind == "class" { classes.append(definition.name) } else { functions.append(definition.name) }
      }
      let code = String(decoding: statement.code, as: UTF8.self)
      for part in code.split(separator: ";") { imports += Self.imports(in: part.trimmingCharacters(in: .whitespaces)) }
    }
  }

  static func imports(in code: String) -> [ImportReference] {
    let words = code.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard let first = words.first else { return [] }
    if first == "import" {
      return code.dropFirst(6).split(separator: ",").compactMap { item in
        let module = item.split(separator: " ").first.map(String.init) ?? ""
        return module.isEmpty ? nil : ImportReference(level: 0, module: module, names: [])
      }
    }
    guard first == "from", words.count >= 3, words[2] == "import" || (words.count >= 4 && words[1].allSatisfy({ $0 == "." }) && words[2] == "import") else {
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
    return [ImportReference(level: level, module: module, names: names)]
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
    for path in paths {
      var parts: [String] = []
      let stem = Self.stem(of: path)
      if stem != "__init__" { parts.append(stem) }
      var directory = Self.directory(of: path)
      while !directory.isEmpty, packages.contains(directory) {
        parts.insert(String(directory.split(separator: "/").last!), at: 0)
        directory = Self.directory(of: directory)
      }
      let name = parts.isEmpty ? (Self.directory(of: path).isEmpty ? "__init__" : Self.directory(of: path).replacingOccurrences(of: "/", with: ".")) : parts.joined(separator: ".")
      byPath[path] = name
      if byName[name] == nil { byName[name] = name }
    }
    for path in paths {
      var components = path.split(separator: "/").map(String.init)
      let last = Self.stem(of: path)
      components.removeLast()
      if last != "__init__" { components.append(last) }
      for start in components.indices {
        let suffix = components[start...].joined(separator: ".")
        guard !suffix.isEmpty, byName[suffix] == nil else { continue }
        if let existing = bySuffix[suffix], existing != byPath[path] { ambiguousSuffixes.insert(suffix) } else { bySuffix[suffix] = byPath[path] }
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
  func resolve(_ reference: ImportReference, from path: String) -> String? {
    var base: String
    if reference.level > 0 {
      var directory = Self.directory(of: path)
      for _ in 1..<reference.level { directory = Self.directory(of: directory) }
      let packagePath = ([directory] + reference.module.split(separator: ".").map(String.init)).filter { !$0.isEmpty }.joined(separator: "/")
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
    let file = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = file.lastIndex(of: ".") else { return file }
    return String(file[..<dot])
  }
}
