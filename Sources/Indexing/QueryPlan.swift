import Foundation
import GitRAGCore
import Store

/// How one query is searched: the weighted terms BM25 ranks on, the text the embedding model
/// sees, and the files the query points at.
public struct QueryPlan: Sendable {
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

  /// Characters of `embeddingText`: about 256 word pieces of mixed code and prose.
  public static let embeddingBudget = 1000

  /// Reads `query`; with `analyze` false, the plan is the plain query (every term once, the
  /// whole text embedded, no mentions), which is how search ranked before query analysis.
  public init(query: String, analyze: Bool = true) {
    guard analyze else {
      analysis = QueryAnalysis()
      keyword = KeywordQuery(text: query)
      embeddingText = query
      mentionedPaths = []
      mentionedModules = []
      return
    }
    let analysis = QueryAnalyzer.analyze(query)
    self.analysis = analysis
    mentionedPaths = analysis.paths
    mentionedModules = analysis.dottedNames

    let prose = Self.prose(query)
    var terms: [String: Double] = [:]
    for term in CodeTokenizer.terms(prose, dropStopWords: true) { terms[term, default: 0] += 1 }
    // Named code counts more than prose: it is what the matching source file contains.
    var named: [String] = analysis.identifiers + analysis.dottedNames
    named += analysis.frames.compactMap(\.function)
    // Stop words stay when they are code (`xr.where`, `keep_attrs=...`).
    for term in Set(named.flatMap { CodeTokenizer.terms($0) }) { terms[term, default: 0] += 2 }
    if let title = analysis.title {
      for term in Set(CodeTokenizer.terms(title, dropStopWords: true)) { terms[term, default: 0] += 1 }
    }
    for frame in analysis.frames {
      let file = frame.path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? frame.path
      for term in Set(CodeTokenizer.terms(file, dropStopWords: true)) where term.count > 2 { terms[term, default: 0] += 1 }
    }
    keyword = KeywordQuery(terms: terms)

    embeddingText = Self.embeddingText(query: query, analysis: analysis, prose: prose)
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
    var named = analysis.dottedNames + analysis.identifiers
    for frame in analysis.frames {
      if let function = frame.function { named.append(function) }
    }
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
