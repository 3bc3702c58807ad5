import Chunking
import Foundation
import GitRAGCore
import Store

/// The Python files that implement the modules and names a query mentions, found through the
/// import graph of the indexed files themselves.
///
/// A dotted name is matched to a module path (`sympy.printing.latex` → `sympy/printing/latex.py`,
/// also under a source folder such as `src/`). A name it goes on to give that the module only
/// re-exports (`from sympy import pycode`, `astropy.units.Quantity`) is followed through the
/// module's imports (`from .printing import pycode` in `sympy/__init__.py`, then `from .pycode
/// import pycode`) to the module that defines it. A package named on its own
/// (`printing.pretty`) stands for the one or two modules its `__init__` imports from.
struct ModuleMentions {
  /// Longest chain of re-exports followed.
  static let maxHops = 4
  /// A package named on its own stands for the modules its `__init__` imports from, when they
  /// are at most this many (a package re-exporting a dozen modules names none in particular).
  static let packageFanOut = 2

  let store: any VectorStore
  let collection: String
  /// Module files by every dotted suffix of their module name (`sympy.printing.latex`,
  /// `printing.latex`, `latex`); a suffix may name several.
  private let modules: [String: [String]]
  private let files: Set<String>

  /// The module table of `paths` (the index's files; non-Python ones are ignored).
  init(store: any VectorStore, collection: String, paths: some Sequence<String>) {
    self.store = store
    self.collection = collection
    var modules: [String: [String]] = [:]
    var files: Set<String> = []
    for path in paths where path.hasSuffix(".py") || path.hasSuffix(".pyi") {
      files.insert(path)
      var parts = path.split(separator: "/").map(String.init)
      parts[parts.count - 1] = String(parts[parts.count - 1].prefix(while: { $0 != "." }))
      if parts.last == "__init__" { parts.removeLast() }
      for start in parts.indices { modules[parts[start...].joined(separator: "."), default: []].append(path) }
    }
    self.modules = modules
    self.files = files
  }

  /// The files implementing `mentions` (path → the mention), in the order of the mentions;
  /// re-exports are followed for the names in `imported` only.
  func implementingFiles(_ mentions: [String], imported: Set<String>) async throws -> [(path: String, mention: String)] {
    var found: [(path: String, mention: String)] = []
    var seen: Set<String> = []
    for mention in mentions {
      for path in try await implementation(of: mention, followingReExports: imported.contains(mention)) where seen.insert(path).inserted {
        found.append((path, mention))
      }
    }
    return found
  }

  /// The files implementing one dotted mention; none when no module of the index matches.
  ///
  /// A name a package re-exports is followed to its module only for an import the report's code
  /// makes (`from sympy import pycode`): in prose, a package's public names (`requests.get`,
  /// `xarray.Dataset`) are how users call the library, not where its bug is.
  func implementation(of mention: String, followingReExports: Bool = true) async throws -> [String] {
    let parts = mention.split(separator: ".").map(String.init)
    guard let (path, rest) = module(parts) else { return [] }
    if let name = rest.first {
      guard followingReExports || !Self.isPackage(path) else { return [] }
      // A package whose re-export cannot be followed names nothing in particular.
      if let found = try await definingModule(of: name, from: path, hops: 0) { return [found] }
      return Self.isPackage(path) ? [] : [path]
    }
    guard Self.isPackage(path) else { return [path] }
    let targets = try await importedModules(of: path)
    return (1...Self.packageFanOut).contains(targets.count) ? targets : [path]
  }

  /// The module file the longest prefix of `parts` names, with the rest of the parts. A prefix of
  /// one part counts only when it is a top-level package and a name follows (`sympy.pycode`): one
  /// word alone is too often a variable (`data.dtype`).
  func module(_ parts: [String]) -> (path: String, rest: [String])? {
    for count in stride(from: parts.count, through: 1, by: -1) {
      guard let paths = modules[parts.prefix(count).joined(separator: ".")] else { continue }
      // Ambiguous: several modules end so (`utils`); the one at the root (or under one source folder) wins.
      let depth = { (path: String) in path.split(separator: "/").count - (path.hasSuffix("/__init__.py") ? 1 : 0) }
      let rooted = paths.filter { depth($0) - count <= 1 }
      guard let path = paths.count == 1 ? paths[0] : rooted.count == 1 ? rooted[0] : nil else { continue }
      if count == 1 && (parts.count == 1 || !path.hasSuffix("__init__.py") || depth(path) > 2) { continue }
      return (path, Array(parts.dropFirst(count)))
    }
    return nil
  }

  /// The module defining `name`, starting at `path` and following its imports of that name.
  func definingModule(of name: String, from path: String, hops: Int) async throws -> String? {
    let chunks = try await store.points(collection, filePaths: [path]).map(\.payload).sorted { $0.chunkIndex < $1.chunkIndex }
    if chunks.contains(where: { Self.defines(name, $0) }) { return path }
    let directory = Self.directory(of: path)
    let submodules = [directory + "/" + name + ".py", directory + "/" + name + "/__init__.py"]
    if Self.isPackage(path), let submodule = submodules.first(where: files.contains) {
      return submodule
    }
    guard hops < Self.maxHops else { return nil }
    let imports = PythonFileFacts(text: Self.text(of: chunks)).imports
    for reference in imports where reference.names.contains(name) {
      guard let target = target(of: reference, name: name, from: path), target != path else { continue }
      return try await definingModule(of: name, from: target, hops: hops + 1) ?? target
    }
    for reference in imports where reference.names == ["*"] {
      guard let target = target(of: reference, name: nil, from: path), target != path else { continue }
      if let found = try await definingModule(of: name, from: target, hops: hops + 1) { return found }
    }
    return nil
  }

  /// The project modules the file at `path` imports from by relative imports, in the order written.
  func importedModules(of path: String) async throws -> [String] {
    let chunks = try await store.points(collection, filePaths: [path]).map(\.payload).sorted { $0.chunkIndex < $1.chunkIndex }
    var targets: [String] = []
    for reference in PythonFileFacts(text: Self.text(of: chunks)).imports where reference.level > 0 {
      if let target = target(of: reference, name: nil, from: path), target != path, !targets.contains(target) { targets.append(target) }
    }
    return targets
  }

  /// The file an import refers to from `path`: `from .x import y` → `x.py` (or `x/__init__.py`)
  /// beside it; `from . import x` → `x.py`; an absolute import through the module table.
  func target(of reference: PythonImport, name: String?, from path: String) -> String? {
    guard reference.level > 0 else { return module(reference.module.split(separator: ".").map(String.init))?.path }
    var directory = Self.directory(of: path)
    for _ in 1..<reference.level { directory = Self.directory(of: directory) }
    let parts = reference.module.isEmpty ? (name.map { [$0] } ?? []) : reference.module.split(separator: ".").map(String.init)
    guard !parts.isEmpty else { return nil }
    let base = ([directory] + parts).filter { !$0.isEmpty }.joined(separator: "/")
    return [base + ".py", base + "/__init__.py", base + ".pyi"].first(where: files.contains)
  }

  /// `chunk` defines `name` at the top level of its module (a function, class or assignment).
  static func defines(_ name: String, _ chunk: ChunkPayload) -> Bool {
    if let symbol = chunk.symbol, topLevelName(symbol) == name { return true }
    return chunk.content.split(whereSeparator: \.isNewline).contains { line in
      for prefix in ["def ", "class ", "async def "] where line.hasPrefix(prefix) {
        let rest = line.dropFirst(prefix.count)
        return rest.hasPrefix(name) && rest.dropFirst(name.count).first.map { $0 == "(" || $0 == ":" } == true
      }
      return line.hasPrefix(name) && line.dropFirst(name.count).drop(while: { $0 == " " }).hasPrefix("=")
        && !line.dropFirst(name.count).drop(while: { $0 == " " }).hasPrefix("==")
    }
  }

  /// The name a top-level symbol defines (`latex`, `class LatexPrinter` → `LatexPrinter`); nil for
  /// a method (`LatexPrinter._print_Add`).
  static func topLevelName(_ symbol: String) -> String? {
    let name = symbol.split(separator: " ").last.map(String.init) ?? symbol
    return name.contains(".") ? nil : name
  }

  /// The file's text from its chunks in order (neighbouring chunks may share a line).
  static func text(of chunks: [ChunkPayload]) -> String {
    var lines: [Substring] = []
    var next = 1
    for chunk in chunks.sorted(by: { $0.chunkIndex < $1.chunkIndex }) {
      let chunkLines = chunk.content.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
      lines += chunkLines.dropFirst(max(0, next - chunk.startLine))
      next = max(next, chunk.startLine + chunkLines.count)
    }
    return lines.joined(separator: "\n")
  }

  static func isPackage(_ path: String) -> Bool {
    path.hasSuffix("/__init__.py") || path.hasSuffix("/__init__.pyi") || path == "__init__.py"
  }

  static func directory(of path: String) -> String {
    path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
  }
}
