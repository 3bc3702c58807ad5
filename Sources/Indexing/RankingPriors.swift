import Foundation

/// What a file is for, judged from its path and language alone (works for any repository).
public enum FileRole: String, Sendable, Codable, CaseIterable {
  case source, test, documentation, changelog, example, configuration
  /// Third-party code copied into the repository (`vendor/`, `third_party/`, `pkg/packages/`).
  case vendored
  /// Issue and pull-request templates (`.github/ISSUE_TEMPLATE/bug_report.md`): they share a bug
  /// report's wording and never hold its fix.
  case template
  /// Translation catalogs (`.po`, `.pot`, `.xlf`): every message of the program, in every language.
  case translation
  /// Data a test reads (`tests/roots/…`, `tests/fixtures/…`, `testdata/`): sample projects and
  /// files that look like the real thing.
  case fixture
  /// Documentation written by a tool from the code (`docs/api/generated/`, `_autosummary/`).
  case generatedDocs = "generated-docs"
  /// git-rag's own project summary (`.rag_metadata/analysis.txt`): names every module and class.
  case summary

  public static func of(path: String, language: String) -> FileRole {
    let lower = path.lowercased()
    let components = lower.split(separator: "/")
    let name = components.last.map(String.init) ?? lower
    let stem = name.split(separator: ".").first.map(String.init) ?? name
    let folders = Set(components.dropLast().map(String.init))
    if components.first == ".rag_metadata" { return .summary }
    if folders.contains("issue_template") || folders.contains("pull_request_template") || folders.contains("issue_templates")
      || folders.contains("merge_request_templates") || stem == "pull_request_template" || stem == "issue_template"
    {
      return .template
    }
    if let dot = name.lastIndex(of: "."), translationExtensions.contains(String(name[name.index(after: dot)...])) {
      return .translation
    }
    if changelogStems.contains(stem) || stem.hasPrefix("changelog") || stem.hasPrefix("release-notes")
      || stem.hasPrefix("whats-new") || stem.hasPrefix("whatsnew") || folders.contains("changelog")
      || folders.contains("changes") || folders.contains("release-notes") || folders.contains("whatsnew")
    {
      return .changelog
    }
    let inTests = !folders.isDisjoint(with: testFolders)
    if !folders.isDisjoint(with: fixtureFolders) || inTests && !folders.isDisjoint(with: testDataFolders) { return .fixture }
    if inTests || name.hasPrefix("test_") || name.hasPrefix("tests.")
      || stem.hasSuffix("_test") || stem.hasSuffix("_tests") || stem.hasSuffix("tests") && language == "swift"
      || name.contains(".test.") || name.contains(".spec.") || stem == "conftest"
    {
      return .test
    }
    // A top-level `packages/` is a monorepo's own code; one nested in a package is vendored.
    if !folders.isDisjoint(with: vendoredFolders) || components.dropFirst().dropLast().contains("packages") { return .vendored }
    let inDocs = !folders.isDisjoint(with: documentationFolders)
    if inDocs && !folders.isDisjoint(with: generatedDocFolders) { return .generatedDocs }
    if documentationLanguages.contains(language) || inDocs {
      return .documentation
    }
    if !folders.isDisjoint(with: exampleFolders) { return .example }
    if configurationLanguages.contains(language) { return .configuration }
    return .source
  }

  private static let changelogStems: Set<String> = ["changes", "history", "news", "changelog", "releases", "release_notes"]
  private static let testFolders: Set<String> = ["test", "tests", "testing", "spec", "specs", "__tests__"]
  /// Folders of test data wherever they are.
  private static let fixtureFolders: Set<String> = ["testdata", "fixtures", "test_data", "__snapshots__", "cassettes"]
  /// Folders of test data inside a test folder (`tests/roots/test-ext/conf.py`, `tests/data/`).
  private static let testDataFolders: Set<String> = ["roots", "data", "fixture", "files", "resources", "samples", "snapshots"]
  private static let vendoredFolders: Set<String> = [
    "vendor", "vendored", "_vendor", "third_party", "thirdparty", "third-party", "external", "extern", "node_modules",
  ]
  private static let documentationFolders: Set<String> = ["doc", "docs", "documentation", "man"]
  private static let generatedDocFolders: Set<String> = ["generated", "_autosummary", "_build", "autoapi", "_generated"]
  private static let exampleFolders: Set<String> = ["example", "examples", "samples", "demo", "demos", "benchmarks", "asv_bench"]
  private static let documentationLanguages: Set<String> = ["markdown", "restructuredtext", "asciidoc", "text", "latex", "html"]
  private static let configurationLanguages: Set<String> = ["yaml", "toml", "json", "ini", "xml", "makefile", "cmake", "dockerfile"]
  private static let translationExtensions: Set<String> = ["po", "pot", "xlf", "xliff"]
}

/// A factor applied to a hit's fused score, and why (shown by `--explain`).
public struct Boost: Sendable, Codable, Hashable {
  public var reason: String
  public var factor: Double

  public init(reason: String, factor: Double) {
    self.reason = reason
    self.factor = factor
  }

  /// The boost marks a chunk that defines a name the query gives.
  public var isDefinition: Bool { reason.hasPrefix("defines ") }
}

/// Score priors and boosts applied after fusion.
public struct RankingPriors: Sendable {
  /// Factor per file role when the query reads like a bug report naming code (a report is
  /// usually fixed in source, while changelogs, docs and tests repeat its words).
  public var bugReportRoleFactor: [FileRole: Double] = [
    .source: 1, .test: 0.6, .documentation: 0.5, .changelog: 0.3, .example: 0.6, .configuration: 0.6, .vendored: 0.6,
    .template: 0.3, .translation: 0.2, .fixture: 0.4, .generatedDocs: 0.3, .summary: 0.3,
  ]
  /// Factor for the project summary when the query names code: the summary lists every name, so
  /// it matches any identifier, but the definition is what the user is after.
  public var summaryForCodeFactor = 0.5
  /// Factor for a file whose path the query mentions (a traceback frame, a file name).
  public var mentionedPathFactor = 1.5
  /// Factor for a file whose module the query names by a dotted name (`pkg.module.Class`).
  public var mentionedModuleFactor = 1.3

  /// Factor for a chunk defining a symbol the title names (`xr.where` → `def where`).
  public var titleDefinitionFactor = 1.5
  /// How much less the outermost traceback frame is boosted than the innermost (0: all alike).
  public var outerFrameDiscount = 0.5

  public init() {}

  /// Factor for a chunk defining a symbol the report names elsewhere (in code, backticks, a
  /// traceback frame's function).
  public var namedDefinitionFactor = 1.2

  /// The boost for a chunk whose symbol (`Class.method`, `function`) ends in a name the title
  /// mentions (or, less, one the rest of the report names), or nil.
  public func definitionBoost(symbol: String?, plan: QueryPlan) -> Boost? {
    guard let symbol, let last = Self.definedName(symbol) else { return nil }
    if titleDefinitionFactor != 1, let name = plan.analysis.namedInTitle.first(where: { $0.lowercased() == last }) {
      return Boost(reason: "defines \(name), named in the title", factor: titleDefinitionFactor)
    }
    if namedDefinitionFactor != 1, let name = plan.definitionTargets.first(where: { $0.lowercased() == last }) {
      return Boost(reason: "defines \(name), named in the query", factor: namedDefinitionFactor)
    }
    return nil
  }

  /// The name a chunk's symbol defines (its last part, lower-cased): `Session.send` → `send`.
  static func definedName(_ symbol: String) -> String? {
    symbol.split(whereSeparator: { $0 == "." || $0 == ":" || $0 == " " || $0 == "/" }).last.map { String($0).lowercased() }
  }

  /// The boosts for one file under `plan`.
  public func boosts(path: String, language: String, plan: QueryPlan) -> [Boost] {
    var boosts: [Boost] = []
    let role = FileRole.of(path: path, language: language)
    if plan.analysis.looksLikeBugReport && !plan.analysis.mentionsDocsOrTests {
      if let factor = bugReportRoleFactor[role], factor != 1 {
        boosts.append(Boost(reason: "\(role.rawValue) file for a bug report", factor: factor))
      }
    } else if role == .summary, summaryForCodeFactor != 1, plan.namesCode {
      boosts.append(Boost(reason: "project summary for a query naming code", factor: summaryForCodeFactor))
    }
    let frames = plan.analysis.frames
    if mentionedPathFactor != 1, let frame = frames.lastIndex(where: { Self.pathMatches(path, mentioned: $0.path) }) {
      // Inner frames are nearer the fault: the innermost gets the whole boost, outer ones less.
      let depth = Double(frame + 1) / Double(frames.count)
      let factor = 1 + (mentionedPathFactor - 1) * (1 - outerFrameDiscount * (1 - depth))
      boosts.append(Boost(reason: "traceback frame (\(frames[frame].path))", factor: factor))
    } else if mentionedPathFactor != 1, let mention = plan.mentionedPaths.first(where: { Self.pathMatches(path, mentioned: $0) }) {
      boosts.append(Boost(reason: "path mentioned (\(mention))", factor: mentionedPathFactor))
    } else if mentionedModuleFactor != 1, let mention = plan.implementingFiles[path] {
      boosts.append(Boost(reason: "implements \(mention), named in the query", factor: mentionedModuleFactor))
    } else if mentionedModuleFactor != 1, let module = plan.mentionedModules.first(where: { Self.moduleMatches(path, dotted: $0) }) {
      boosts.append(Boost(reason: "module named (\(module))", factor: mentionedModuleFactor))
    }
    return boosts
  }

  /// `mentioned` ends with `path`'s last two components (or is `path`'s file name when the
  /// mention has no folder): `/site-packages/requests/models.py` names `requests/models.py`.
  public static func pathMatches(_ path: String, mentioned: String) -> Bool {
    let mention = mentioned.replacingOccurrences(of: "\\", with: "/").split(separator: "/").map(String.init)
    let indexed = path.split(separator: "/").map(String.init)
    guard let last = mention.last, last == indexed.last else { return false }
    let needed = min(indexed.count, mention.count, 2)
    return Array(mention.suffix(needed)) == Array(indexed.suffix(needed))
  }

  /// `dotted` names `path` as a module (`requests.sessions`, or a name inside it such as
  /// `requests.sessions.Session`); the module needs two parts to count, `__init__` stands for its package.
  public static func moduleMatches(_ path: String, dotted: String) -> Bool {
    guard let dot = path.lastIndex(of: "."), path[path.index(after: dot)...].count <= 4 else { return false }
    var parts = path[..<dot].split(separator: "/").map(String.init)
    if parts.last == "__init__" { parts.removeLast() }
    guard parts.count >= 2 else { return false }
    let name = dotted.split(separator: ".").map(String.init)
    guard name.count >= parts.count else { return false }
    // The module may sit under a source folder (`src/`, `lib/`): match its tail.
    for start in 0..<parts.count - 1 {
      let tail = Array(parts[start...])
      if tail.count >= 2, Array(name.prefix(tail.count)) == tail { return true }
    }
    return false
  }
}
