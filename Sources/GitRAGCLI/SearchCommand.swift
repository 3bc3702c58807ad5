import ArgumentParser
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Indexing
import Store

struct SearchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search",
    abstract: "Search the index: keyword (BM25) and vector similarity fused by reciprocal rank."
  )

  @Argument(help: "What to look for: words, identifiers, a question or a whole bug report.")
  var query: [String]

  @Option(name: .short, help: "How many results.")
  var k = 10

  @Flag(help: "Print results as JSON.")
  var json = false

  @Flag(help: "One result per file, scored from its best chunks.")
  var files = false

  @Flag(help: "Show, for each hit, its keyword rank, vector rank and fused score.")
  var explain = false

  @Option(name: .customShort("C"), help: "Show the lines that match the query with this many lines around them.")
  var contextLines: Int?

  @Option(
    name: .long,
    help:
      "Only paths matching this glob, relative to the current folder (`*` within a folder, `**` across folders, `/src` from the top); repeatable; `!GLOB` excludes."
  )
  var path: [String] = []

  @Option(name: .long, help: "Only chunks of this language (python, swift, markdown, ...).")
  var language: String?

  @Flag(help: "Search HEAD's index only, without the working tree's uncommitted changes.")
  var committed = false
  @OptionGroup var global: GlobalOptions

  @Flag(help: "Fail when the embedder cannot be reached, instead of answering from the keyword index alone.")
  var requireVectors = false

  /// `search` arguments with each run of plain query words joined into one argument.
  ///
  /// The argument parser takes time quadratic in the number of arguments (18,620 unquoted words
  /// took 11.6 s), while the query is the words joined by spaces anyway. A word right after an
  /// option is left alone (it may be that option's value), and so is everything that is not a
  /// `search` command line.
  static func coalescingQueryWords(_ arguments: [String]) -> [String] {
    guard arguments.first == "search", arguments.count > 8 else { return arguments }
    var result: [String] = []
    result.reserveCapacity(16)
    var run: [String] = []
    var afterOption = false, afterTerminator = false
    func flush() {
      if !run.isEmpty { result.append(run.joined(separator: " ")) }
      run.removeAll()
    }
    for argument in arguments.dropFirst() {
      let isOption = !afterTerminator && argument.count > 1 && argument.hasPrefix("-")
      if isOption || afterOption {
        flush()
        result.append(argument)
        if argument == "--" && isOption { afterTerminator = true; afterOption = false } else { afterOption = isOption }
        continue
      }
      run.append(argument)
    }
    flush()
    return ["search"] + result
  }

  func validate() throws {
    guard !query.joined().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw ValidationError("Give a query, e.g. git rag search \"where are retries configured\".")
    }
    guard (1...SearchOptions.maxResults).contains(k) else {
      throw ValidationError("-k must be between 1 and \(SearchOptions.maxResults), got \(k).")
    }
  }

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let session = try IndexSession(context: context)
    var options = SearchOptions(query: query.joined(separator: " "))
    options.limit = k
    options.files = files
    options.pathGlob = PathGlob.list(path.map { Self.fromRoot($0, repository: context.repository) })
    options.language = language
    options.committedOnly = committed
    options.requireVectors = requireVectors
    let response = try await session.search(options)
    let stamp = response.stamp
    let plan = response.plan, embedded = response.usedVectors
    if json {
      print(try JSONOutput.encode(Versioned(response)))
    } else if let hits = response.files {
      stamp.printWarnings(workingTreeSearched: response.workingTree.searched == true)
      if explain, let plan { printPlan(plan, embedded: embedded) }
      for (rank, result) in hits.enumerated() {
        let hit = result.hit, best = hit.best.payload
        let lines = "\(best.startLine)-\(best.endLine)\(best.symbol.map { " \($0.terminalSafe)" } ?? "")"
        print(
          explain
            ? String(format: "%2d. %@%@  (%.4f, best %@)", rank + 1, hit.filePath.terminalSafe, marker(result.best), hit.score, lines)
            : String(format: "%2d. %@%@  (best %@)", rank + 1, hit.filePath.terminalSafe, marker(result.best), lines))
        if explain {
          print(
            "    "
              + explanation(
                keywordRank: hit.keywordRank, vectorRank: hit.vectorRank, fused: hit.fused, boosts: hit.boosts, score: hit.score)
              + ", \(hit.chunks) chunk\(hit.chunks == 1 ? "" : "s") in the candidates")
        }
      }
      if hits.isEmpty { print("No results.") }
    } else {
      stamp.printWarnings(workingTreeSearched: response.workingTree.searched == true)
      if explain, let plan { printPlan(plan, embedded: embedded) }
      for (rank, (ranked, result)) in zip(response.ranked, response.chunks ?? []).enumerated() {
        let hit = ranked.hit, p = hit.payload
        let heading = String(
          format: "%2d. %@:%d-%d%@%@", rank + 1, p.filePath.terminalSafe, p.startLine, p.endLine,
          p.symbol.map { "  \($0.terminalSafe)" } ?? "", marker(result))
        print(explain ? heading + String(format: "  (%.4f)", hit.score) : heading)
        if explain {
          print(
            "    "
              + explanation(
                keywordRank: hit.keywordRank, vectorRank: hit.vectorRank, fused: ranked.fused, boosts: ranked.boosts, score: hit.score))
        }
        for line in contextLines.map({ Snippet.around(query: options.query, in: p.content, firstLine: p.startLine, context: $0) })
          ?? Snippet.head(p.content)
        {
          print("      \(line.terminalSafe)")
        }
      }
      if response.ranked.isEmpty { print("No results.") }
    }
    // Like grep: a search that matches nothing exits 1.
    if response.isEmpty { throw ExitCode(ExitStatus.noResults) }
  }

  /// `  [working tree]` on uncommitted hits, `  [changed since indexed]` on stale ones.
  private func marker(_ result: ChunkResult) -> String {
    result.workingTree ? "  [working tree]" : result.fileChanged ? "  [changed since indexed]" : ""
  }

  /// `bm25 #3, vector #12, fused 0.03100 × 0.6 (test file for a bug report) = 0.01860`.
  private func explanation(keywordRank: Int?, vectorRank: Int?, fused: Double, boosts: [Boost], score: Double) -> String {
    let keyword = keywordRank.map { "#\($0)" } ?? "-"
    let vector = vectorRank.map { "#\($0)" } ?? "-"
    var text = String(format: "bm25 rank %@, vector rank %@, fused %.5f", keyword, vector, fused)
    for boost in boosts { text += String(format: " × %.2f (%@)", boost.factor, boost.reason) }
    if !boosts.isEmpty { text += String(format: " = %.5f", score) }
    return text
  }

  /// What the query analysis found: the terms BM25 weights most and what the model reads.
  private func printPlan(_ plan: QueryPlan, embedded: Bool) {
    let top = plan.keyword.terms.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(15)
      .map { $0.value == 1 ? $0.key : String(format: "%@×%.1f", $0.key, $0.value) }
    print("query: \(plan.keyword.terms.count) keyword terms; strongest: \(top.joined(separator: " ").terminalSafe)")
    if plan.analysis.looksLikeBugReport { print("query: reads as a bug report naming code (source files preferred)") }
    if !plan.mentionedPaths.isEmpty { print("query: mentions paths \(plan.mentionedPaths.prefix(8).joined(separator: ", ").terminalSafe)") }
    if !plan.mentionedModules.isEmpty { print("query: names \(plan.mentionedModules.prefix(8).joined(separator: ", ").terminalSafe)") }
    if embedded {
      print("query: the model reads \"\(plan.embeddingText.prefix(160).replacingOccurrences(of: "\n", with: " ").terminalSafe)…\"")
    }
    print("")
  }
}

extension IndexStamp {
  func printWarnings(workingTreeSearched: Bool) {
    let indexed = indexedCommit.map { String($0.prefix(12)) } ?? "nothing"
    if stale, let head {
      Console.info("warning: the index is at \(indexed) but HEAD is \(head.prefix(12)); run `git rag sync`.")
    } else if dirty, !workingTreeSearched {
      Console.info("warning: the working tree has uncommitted changes; results reflect \(indexed).")
    }
  }
}

extension SearchCommand {
  /// `glob` (relative to the current folder) as a glob from the repository's top; `/glob` is
  /// from the top already, and a leading `!` is kept.
  static func fromRoot(_ glob: String, repository: Repository?) -> String {
    let negated = glob.hasPrefix("!")
    let body = negated ? String(glob.dropFirst()) : glob
    if body.hasPrefix("/") { return glob }
    var prefix = ""
    if let root = repository?.workdir?.standardizedFileURL.resolvingSymlinksInPath().path {
      let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.resolvingSymlinksInPath().path
      if here.hasPrefix(root + "/") { prefix = String(here.dropFirst(root.count + 1)) + "/" }
    }
    var relative = body
    while relative.hasPrefix("./") { relative.removeFirst(2) }
    while relative.hasPrefix("../"), !prefix.isEmpty {
      relative.removeFirst(3)
      prefix = prefix.dropLast().split(separator: "/").dropLast().map { $0 + "/" }.joined()
    }
    if relative == "." || relative.isEmpty { relative = "" }
    let full = relative.isEmpty ? (prefix.isEmpty ? "**" : String(prefix.dropLast())) : prefix + relative
    return (negated ? "!" : "") + "/" + full
  }
}

/// The lines of a chunk to show under a hit.
enum Snippet {
  /// The first lines, with their indentation kept (less what they all share).
  static func head(_ content: String, lines count: Int = 4) -> [String] {
    let lines = content.split(separator: "\n", omittingEmptySubsequences: false).drop(while: { $0.allSatisfy(\.isWhitespace) })
    return clip(dedent(Array(lines.prefix(count))))
  }

  /// The lines that contain a word of `query`, each with `context` lines around it, numbered
  /// from `firstLine`; `--` between separate stretches. Without a match, the first lines.
  static func around(query: String, in content: String, firstLine: Int, context: Int) -> [String] {
    let lines = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let words = Set(query.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" }).map(String.init))
      .filter { $0.count >= 3 && !stopWords.contains($0) }
    let matching = lines.indices.filter { index in
      let lower = lines[index].lowercased()
      return words.contains(where: { lower.contains($0) })
    }
    var shown: [Int] = []
    for index in matching {
      for line in max(0, index - context)...min(lines.count - 1, index + context) where shown.last.map({ line > $0 }) ?? true {
        shown.append(line)
      }
    }
    if shown.isEmpty { shown = Array(lines.indices.prefix(2 * max(0, context) + 1)) }
    let width = String(firstLine + (shown.last ?? 0)).count
    let text = dedent(shown.map { lines[$0][...] })
    var out: [String] = []
    for (position, index) in shown.enumerated() {
      if position > 0, shown[position - 1] != index - 1 { out.append("--") }
      let number = String(firstLine + index)
      let marker = matching.contains(index) ? ":" : "-"
      out.append(String(repeating: " ", count: width - number.count) + number + marker + " " + text[position])
    }
    return clip(out)
  }

  private static let stopWords: Set<String> = [
    "the", "and", "for", "with", "where", "what", "how", "are", "was", "this", "that", "from", "into", "when", "which", "does", "not",
  ]

  private static func dedent(_ lines: [Substring]) -> [String] {
    let shared = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map { $0.prefix(while: { $0 == " " || $0 == "\t" }).count }.min() ?? 0
    return lines.map { String($0.dropFirst(min(shared, $0.prefix(while: { $0 == " " || $0 == "\t" }).count))) }
  }

  private static func clip(_ lines: [String]) -> [String] {
    lines.map { $0.count > 160 ? String($0.prefix(160)) + "…" : $0 }
  }
}
