import Foundation
import GitRAGCore
import Store

/// Weights of the keyword terms a query plan builds (a term's weights add up).
public struct QueryWeights: Sendable, Hashable {
  /// A term of the report's prose, once.
  public var prose = 1.0
  /// Extra prose weight per doubling of a term's count.
  public var proseRepeat = 0.5
  /// A term of an identifier, dotted name or traceback function the query names.
  public var identifier = 2.0
  /// A term of the title.
  public var title = 1.0
  /// A term of a traceback frame's file name.
  public var frameFile = 1.0

  public init() {}
}

/// How one query is searched: the weighted terms BM25 ranks on, the text the embedding model
/// sees, and the files the query points at.
public struct QueryPlan: Sendable {
  /// The query as written.
  public var query: String
  public var analysis: QueryAnalysis
  /// Terms for BM25: prose with stop words dropped, identifiers and the title weighted up.
  public var keyword: KeywordQuery
  /// What the embedding model sees (it reads at most a few hundred tokens): the title, the named
  /// code, then the start of the prose.
  public var embeddingText: String
  /// Paths the query mentions (traceback frames, file names), as written.
  public var mentionedPaths: [String]
  /// Dotted names that may be module paths (`requests.sessions`, `xarray.core.dataset.Dataset`).
  public var mentionedModules: [String]
  /// Dotted names to look up as Python modules, imported names first (`sympy.pycode`,
  /// `astropy.units.Quantity`, `printing.pretty`): `ModuleMentions` carries each to the file
  /// that implements it.
  public var moduleMentions: [String]
  /// Files that implement a module or name the query mentions (path → the mention), filled in by
  /// the search from the index (`ModuleMentions`); they get the module boost.
  public var implementingFiles: [String: String] = [:]
  /// How many mentions `moduleMentions` keeps.
  public static let moduleMentionLimit = 12
  /// Names whose definitions the query may be after, most telling first: what the title names,
  /// the traceback's functions from the innermost frame out, then the code the rest names (or
  /// the words of a short query, which may be a bare name such as `frobnicate`).
  public var definitionTargets: [String]
  /// The names whose definitions are searched for even when the query's prose matches other
  /// files better: what the title names, the traceback's functions, a short query's words. (The
  /// body's other names only lift definitions already among the candidates: a report names many
  /// in passing.)
  public var definitionLookups: [String]
  /// The query names code: identifiers, dotted names, traceback frames or file paths.
  public var namesCode: Bool {
    !analysis.identifiers.isEmpty || !analysis.namedInTitle.isEmpty || !analysis.dottedNames.isEmpty || !analysis.paths.isEmpty
  }
  /// How many names `definitionTargets` keeps.
  public static let definitionTargetLimit = 8

  /// Characters of `embeddingText`: about 256 word pieces of mixed code and prose.
  public static let embeddingBudget = 1000

  /// Reads `query`; with `analyze` false, the plan is the plain query (every term once, the
  /// whole text embedded, no mentions), which is how search ranked before query analysis.
  public init(query: String, analyze: Bool = true, weights: QueryWeights = QueryWeights()) {
    self.query = query
    guard analyze else {
      analysis = QueryAnalysis()
      keyword = KeywordQuery(text: query)
      embeddingText = query
      mentionedPaths = []
      mentionedModules = []
      moduleMentions = []
      definitionTargets = []
      definitionLookups = []
      return
    }
    let analysis = QueryAnalyzer.analyze(query)
    self.analysis = analysis
    mentionedPaths = analysis.paths
    mentionedModules = analysis.dottedNames
    var seenMentions: Set<String> = []
    // A bare file name may be a dotted module name too (`format="ascii.rst"` names `ascii/rst.py`);
    // a Python file's name (`core.py`) is not.
    let bareNames = analysis.paths.filter { name in
      !name.contains("/") && !name.contains("\\") && !name.hasSuffix(".py") && !name.hasSuffix(".pyi") && QueryAnalyzer.isDottedName(name)
    }
    moduleMentions = (analysis.importedNames + analysis.dottedNames + bareNames).filter { seenMentions.insert($0).inserted }
      .prefix(Self.moduleMentionLimit).map { $0 }
    definitionTargets = Self.definitionTargets(query: query, analysis: analysis)
    let strong = Set((analysis.namedInTitle + analysis.frames.compactMap(\.function)).map { $0.lowercased() })
    let shortQuery = analysis.title == nil && query.split(whereSeparator: \.isWhitespace).count <= 3
    definitionLookups = definitionTargets.filter { shortQuery || strong.contains($0.lowercased()) }

    let prose = Self.prose(query)
    var terms: [String: Double] = [:]
    var counts: [String: Int] = [:]
    for term in CodeTokenizer.terms(prose, dropStopWords: true) { counts[term, default: 0] += 1 }
    // Prose counts sublinearly: an output block repeating `float64` twenty times is not twenty
    // times the evidence.
    for (term, count) in counts {
      terms[term] = weights.prose * (1 + weights.proseRepeat * log2(Double(count)))
    }
    // Named code counts more than prose: it is what the matching source file contains.
    // Stop words stay when they are code (`xr.where`, `keep_attrs=...`).
    let named = analysis.identifiers + analysis.frames.compactMap(\.function)
    for term in Set(named.flatMap { CodeTokenizer.terms($0) }) { terms[term, default: 0] += weights.identifier }
    if let title = analysis.title {
      for term in Set(CodeTokenizer.terms(title, dropStopWords: true)) { terms[term, default: 0] += weights.title }
    }
    let frameFiles = Set(
      analysis.frames.map { $0.path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? $0.path })
    for term in Set(frameFiles.flatMap { CodeTokenizer.terms($0, dropStopWords: true) }) where term.count > 2 {
      terms[term, default: 0] += weights.frameFile
    }
    // Bare numbers (`64` of `float64`, line numbers, sizes) match everywhere and mean little.
    for term in terms.keys where term.allSatisfy(\.isNumber) { terms[term] = nil }
    keyword = KeywordQuery(terms: terms)

    embeddingText = Self.embeddingText(query: query, analysis: analysis, prose: prose)
  }

  static func definitionTargets(query: String, analysis: QueryAnalysis) -> [String] {
    var candidates = analysis.namedInTitle + analysis.frames.reversed().compactMap(\.function) + analysis.identifiers
    let words = query.split(whereSeparator: \.isWhitespace)
    if analysis.title == nil, words.count <= 3 {
      candidates += words.map(String.init).filter { word in
        word.first.map { $0.isLetter || $0 == "_" } == true && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
      }
    }
    var seen: Set<String> = []
    // Dunder methods (`__init__`) and very short names are defined everywhere.
    return candidates.filter { name in
      name.count >= 3 && !(name.hasPrefix("__") && name.hasSuffix("__")) && seen.insert(name.lowercased()).inserted
    }.prefix(definitionTargetLimit).map { $0 }
  }

  /// The query without what only adds noise to BM25: traceback frame lines (their paths name
  /// the user's machine), HTML comments and checklists of issue templates, and environment
  /// dumps (runs of `key: value` lines such as `numpy: 1.18.1`, `OS: Linux`).
  static func prose(_ query: String) -> String {
    QueryAnalyzer.reportBody(query).joined(separator: "\n")
  }

  static func embeddingText(query: String, analysis: QueryAnalysis, prose: String) -> String {
    var parts: [String] = []
    if let title = analysis.title { parts.append(title) }
    // Names once: an identifier already inside a dotted name (`where` of `xr.where`) is not repeated.
    let inDotted = Set(analysis.dottedNames.flatMap { $0.split(separator: ".").map(String.init) })
    let named =
      analysis.dottedNames + analysis.identifiers.filter { !inDotted.contains($0) }
      + analysis.frames.compactMap(\.function)
    var seen: Set<String> = []
    let code = named.filter { seen.insert($0).inserted }.prefix(40).joined(separator: " ")
    if !code.isEmpty { parts.append(code) }
    var body = prose
    if let title = analysis.title, let range = body.range(of: title) { body.removeSubrange(range) }
    parts.append(body.split(whereSeparator: \.isWhitespace).joined(separator: " "))
    let text = parts.joined(separator: "\n")
    return text.count <= embeddingBudget ? text : String(text.prefix(embeddingBudget))
  }
}
