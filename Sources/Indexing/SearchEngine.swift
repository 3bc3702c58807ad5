import Embedding
import Foundation
import GitRAGCore
import Logging
import Store

/// A query as a user (or an agent) asks it.
public struct SearchRequest: Sendable {
  public var query: String
  public var limit = 10
  /// One row per file (its score from its best chunks) instead of one per chunk.
  public var files = false
  public var filter = SearchFilter.none

  public init(query: String) { self.query = query }
}

/// A chunk-level result with how its score came about.
public struct RankedChunk: Sendable, Codable, Hashable {
  /// The hit; `score` is the final score (fused score times every boost).
  public var hit: SearchHit
  /// Reciprocal-rank-fusion score before boosts.
  public var fused: Double
  public var boosts: [Boost]
}

/// A file-level result built from chunk hits.
public struct FileHit: Sendable, Codable, Hashable {
  public var filePath: String
  /// Final score: the fused score times every boost.
  public var score: Double
  /// The file's best chunk.
  public var best: SearchHit
  /// How many of the file's chunks were among the candidates.
  public var chunks: Int
  /// 1-based rank of the file in the keyword (BM25) list, by its best chunk there.
  public var keywordRank: Int?
  /// 1-based rank of the file in the vector list, by its best chunk there.
  public var vectorRank: Int?
  /// Reciprocal-rank-fusion score before boosts.
  public var fused: Double
  public var boosts: [Boost]

  enum CodingKeys: String, CodingKey {
    case filePath = "file_path", score, best, chunks, keywordRank = "keyword_rank", vectorRank = "vector_rank"
    case fused, boosts
  }
}

/// Hybrid search: BM25 and vector similarity fused by reciprocal rank, then priors and boosts.
///
/// The query is read first (`QueryPlan`): BM25 gets its weighted terms, the model gets a short
/// text made of the title, the named code and the start of the prose. Files are ranked by the
/// rank of their best chunk in each list, so a file with many chunks does not crowd out others.
public struct SearchEngine: Sendable {
  public let store: any VectorStore
  public let embedder: (any Embedder)?
  public let collection: String
  /// Candidates taken from each ranked list before fusion (chunk results).
  public var depth = 100
  /// Chunk candidates taken from each list for file results (files need more chunks to rank).
  public var fileDepth = 300
  /// Reciprocal-rank-fusion constant (ranks are 1-based). 60, the usual value: on the development
  /// set of `scripts/bench/quality` anything from 30 to 100 ranks alike (BENCHMARKS.md), and
  /// smaller values let rank differences drown the traceback boosts.
  public var rrfK = 60.0
  public var keywordWeight = 1.0
  public var vectorWeight = 1.0
  /// Weight of the third list: chunks defining a name the query gives (`QueryPlan.definitionLookups`),
  /// found by a keyword search per name, so a definition the prose around it does not match
  /// still takes part.
  public var definitionWeight = 1.0
  /// Weight of the fourth list: the files implementing the modules and names the query mentions
  /// (`ModuleMentions`), each by its chunk defining the name (or its first chunk).
  /// On the development set 0.5 ranks better than 1 (astropy recall@5 0.868 against 0.842: a
  /// report's code imports helpers as well as the faulty module).
  public var moduleWeight = 0.5
  /// Resolve the modules and names the query mentions to the files implementing them.
  public var resolveModuleMentions = true
  /// Follow re-exports for dotted names in prose too, not only for the report's imports.
  var followReExportsInProse = false
  /// Chunks taken per name for the definition list.
  public var definitionDepth = 30
  /// What each further chunk of a file in a list adds, relative to its best chunk's share (split
  /// among the file's chunks, so a file gains at most this share again, however many it has).
  /// Nil: `splitChunkShare` for an index whose chunks end at a model's token limit of at most
  /// `smallChunkTokens` (the built-in model's 256), none for one of 1,500-character chunks.
  public var extraChunkShare: Double?
  /// The further chunks' share in an index of small chunks: one passage of a file then spans
  /// several chunks, and the file's best chunk alone undersells it (on the development set,
  /// recall@5 0.838 → 0.875 with the built-in model; on 1,500-character chunks the same share
  /// lets many weak matches beat one strong one: astropy −0.035).
  public var splitChunkShare = 1.0
  public static let smallChunkTokens = 512
  public var priors = RankingPriors()
  /// Rank files by their best chunk's rank in each list (false: sum fused chunk scores).
  public var rankFilesByBestChunk = true
  public var queryWeights = QueryWeights()
  /// Embed the query as written instead of the plan's chosen text (for comparison).
  public var embedPlainQuery = false
  /// Read the query (`QueryPlan`) instead of searching its plain text.
  public var analyzeQuery = true
  /// Uncommitted changes: their chunks replace the committed chunks of the same paths, and
  /// deleted paths drop out. Nil searches the committed index only.
  public var workingTree: WorkingTreeView?
  /// Fail when the query cannot be embedded; otherwise answer from the keyword index alone, with
  /// one warning in the log.
  public var requireVectors = false
  var logger = Logger(label: "git-rag.search")

  public init(store: any VectorStore, embedder: (any Embedder)?, collection: String) {
    self.store = store
    self.embedder = embedder
    self.collection = collection
    let environment = ProcessInfo.processInfo.environment
    // Tuning knobs for the quality benchmark (scripts/bench/quality); not a user setting.
    if let value = environment["GIT_RAG_RANK_TUNING"] { apply(tuning: value) }
  }

  /// Chunk-level hits, best first.
  public func chunks(_ request: SearchRequest, limit: Int? = nil) async throws -> [SearchHit] {
    try await rankedChunks(request, limit: limit).map(\.hit)
  }

  /// Chunk-level hits with their fused score and boosts, best first.
  public func rankedChunks(_ request: SearchRequest, limit: Int? = nil) async throws -> [RankedChunk] {
    var plan = QueryPlan(query: request.query, analyze: analyzeQuery, weights: queryWeights)
    let limit = limit ?? request.limit
    let lists = try await candidates(plan, filter: request.filter, depth: max(depth, limit * 3))
    plan.implementingFiles = lists.implementing
    var ranked = fuse(keyword: lists.keyword, vector: lists.vector, definitions: lists.definitions, modules: lists.modules).map { hit in
      var boosts = priors.boosts(path: hit.payload.filePath, language: hit.payload.language, plan: plan)
      if let definition = priors.definitionBoost(symbol: hit.payload.symbol, plan: plan) { boosts.append(definition) }
      var hit = hit
      let fused = hit.score
      hit.score = boosts.reduce(fused) { $0 * $1.factor }
      return RankedChunk(hit: hit, fused: fused, boosts: boosts)
    }
    // The project summary names everything; it never outranks a definition the query asks for.
    if let floor = ranked.filter({ $0.boosts.contains(where: \.isDefinition) }).map(\.hit.score).min() {
      for index in ranked.indices
      where FileRole.of(path: ranked[index].hit.payload.filePath, language: ranked[index].hit.payload.language) == .summary {
        ranked[index].hit.score = min(ranked[index].hit.score, floor * Self.belowDefinition)
      }
    }
    ranked.sort {
      ($0.hit.score, $1.hit.payload.filePath, $1.hit.payload.chunkIndex) > (
        $1.hit.score, $0.hit.payload.filePath, $0.hit.payload.chunkIndex
      )
    }
    return Array(ranked.prefix(limit))
  }

  /// File-level hits, best first: each file takes the rank of its best chunk in the keyword list
  /// and in the vector list, the two ranks are fused, and the file's boosts applied.
  public func files(_ request: SearchRequest) async throws -> [FileHit] {
    var plan = QueryPlan(query: request.query, analyze: analyzeQuery, weights: queryWeights)
    let lists = try await candidates(plan, filter: request.filter, depth: max(fileDepth, request.limit * 10))
    plan.implementingFiles = lists.implementing
    let chunkScores = fuse(keyword: lists.keyword, vector: lists.vector, definitions: lists.definitions, modules: lists.modules)
    var files: [String: FileHit] = [:]
    // The best chunk is the one the chunk view ranks first in this file: by fused score with its
    // definition boost (the file's other boosts are the same for all of its chunks).
    var bestScore: [String: Double] = [:]
    for hit in chunkScores {
      let path = hit.payload.filePath
      if files[path] == nil {
        let boosts = priors.boosts(path: path, language: hit.payload.language, plan: plan)
        files[path] = FileHit(filePath: path, score: 0, best: hit, chunks: 0, fused: 0, boosts: boosts)
      }
      files[path]!.chunks += 1
      let definition = priors.definitionBoost(symbol: hit.payload.symbol, plan: plan)
      let chunkScore = hit.score * (definition?.factor ?? 1)
      if chunkScore > bestScore[path, default: -.infinity] {
        bestScore[path] = chunkScore
        files[path]!.best = hit
      }
      if let definition, !files[path]!.boosts.contains(where: { $0.reason == definition.reason }) {
        files[path]!.boosts.append(definition)
      }
    }
    let share = extraChunkShare ?? ((lists.chunkTokens ?? .max) <= Self.smallChunkTokens ? splitChunkShare : 0)
    for (list, isKeyword) in [(lists.keyword, true), (lists.vector, false)] {
      let weight = isKeyword ? keywordWeight : vectorWeight
      var rank = 0
      var seen: Set<String> = []
      for hit in list {
        let path = hit.payload.filePath
        if seen.insert(path).inserted {
          rank += 1
          if isKeyword { files[path]?.keywordRank = rank } else { files[path]?.vectorRank = rank }
          files[path]?.fused += weight / (rrfK + Double(rank))
        } else if share > 0, let file = files[path], let fileRank = isKeyword ? file.keywordRank : file.vectorRank {
          files[path]!.fused += share * weight / (rrfK + Double(fileRank)) / Double(file.chunks)
        }
      }
    }
    var defined: Set<String> = []
    for hit in lists.definitions where defined.insert(hit.payload.filePath).inserted {
      files[hit.payload.filePath]?.fused += definitionWeight / (rrfK + Double(defined.count))
    }
    for (index, hit) in lists.modules.enumerated() {
      files[hit.payload.filePath]?.fused += moduleWeight / (rrfK + Double(index + 1))
    }
    if !rankFilesByBestChunk {
      // Older rule: fused chunk scores, the best chunk fully and every further one a quarter.
      for key in files.keys { files[key]!.fused = 0 }
      var seen: Set<String> = []
      for hit in chunkScores {
        let first = seen.insert(hit.payload.filePath).inserted
        files[hit.payload.filePath]!.fused += first ? hit.score : hit.score * 0.25
      }
    }
    var hits = files.values.map { file in
      var file = file
      file.score = file.boosts.reduce(file.fused) { $0 * $1.factor }
      return file
    }
    // The project summary names everything; it never outranks a definition the query asks for.
    if let floor = hits.filter({ $0.boosts.contains(where: \.isDefinition) }).map(\.score).min() {
      for index in hits.indices where FileRole.of(path: hits[index].filePath, language: hits[index].best.payload.language) == .summary {
        hits[index].score = min(hits[index].score, floor * Self.belowDefinition)
      }
    }
    return Array(hits.sorted { ($0.score, $1.filePath) > ($1.score, $0.filePath) }.prefix(request.limit))
  }

  /// A summary capped below a definition scores this share of the lowest-scoring definition.
  static let belowDefinition = 0.999

  /// The keyword, vector, definition and module candidate lists for `plan`, best first, and the
  /// files implementing what the query mentions (path → mention).
  func candidates(_ plan: QueryPlan, filter: SearchFilter, depth: Int) async throws
    -> (
      keyword: [SearchHit], vector: [SearchHit], definitions: [SearchHit], modules: [SearchHit], implementing: [String: String],
      chunkTokens: Int?
    )
  {
    // Keyword search runs while the model embeds the query.
    let overlay = workingTree?.hasChunks == true ? workingTree : nil
    async let committedKeyword = keywordCandidates(plan, store: store, collection: collection, filter: filter, depth: depth)
    async let overlayKeyword =
      overlay == nil
      ? [] : keywordCandidates(plan, store: overlay!.store, collection: overlay!.collection, filter: filter, depth: depth)
    async let stored = store.metadata(collection)
    async let definitionHits = definitions(plan, filter: filter)
    async let moduleHits = modules(plan, filter: filter)
    var vector: [SearchHit] = [], overlayVector: [SearchHit] = []
    if let embedder, vectorWeight > 0 {
      var query: [Float]?
      do {
        if try await embedder.dimension > 0 {
          query = try await embedder.embed([embedPlainQuery ? plan.query : plan.embeddingText])[0]
        }
      } catch  where !requireVectors && !(error is CancellationError) {
        let reason = (error as? any UserFacingError)?.errorDescription ?? "\(error)"
        logger.warning(
          "keyword results only: the query could not be embedded (\(reason.prefix(300))). Use --require-vectors to fail instead.")
      }
      if let query {
        vector = try await store.vectorSearch(collection, vector: query, limit: depth, filter: filter)
        if let overlay {
          overlayVector = try await overlay.store.vectorSearch(overlay.collection, vector: query, limit: depth, filter: filter)
        }
      }
    }
    var keyword = try await committedKeyword
    let metadata = try await stored
    let chunkTokens = metadata.flatMap { SyncEngine.chunkTokenLimit($0.chunkerVersion) }
    if let targets = metadata.map({ Set($0.pendingTargets.values) }), !targets.isEmpty {
      keyword = Self.oneVersionPerFile(keyword, interruptedTargets: targets)
      vector = Self.oneVersionPerFile(vector, interruptedTargets: targets)
    }
    var definitions = try await definitionHits
    var (modules, implementing) = try await moduleHits
    guard let workingTree else { return (keyword, vector, definitions, modules, implementing, chunkTokens) }
    // Committed chunks of changed paths give way to their working-tree versions (or to nothing).
    let replaced = workingTree.replacedPaths
    let keptKeyword = keyword.filter { !replaced.contains($0.payload.filePath) }
    let keptVector = vector.filter { !replaced.contains($0.payload.filePath) }
    definitions.removeAll { replaced.contains($0.payload.filePath) }
    modules.removeAll { replaced.contains($0.payload.filePath) }
    // Both stores score alike (BM25, cosine similarity), so the lists merge by score.
    func merge(_ a: [SearchHit], _ b: [SearchHit]) -> [SearchHit] {
      let sorted = (a + b).sorted {
        ($0.score, $1.payload.filePath, $1.payload.chunkIndex) > ($1.score, $0.payload.filePath, $0.payload.chunkIndex)
      }
      return Array(sorted.prefix(depth))
    }
    return (
      merge(keptKeyword, try await overlayKeyword), merge(keptVector, overlayVector), definitions, modules, implementing, chunkTokens
    )
  }

  private func keywordCandidates(
    _ plan: QueryPlan, store: any VectorStore, collection: String, filter: SearchFilter, depth: Int
  ) async throws -> [SearchHit] {
    plan.keyword.terms.isEmpty ? [] : try await store.keywordSearch(collection, query: plan.keyword, limit: depth, filter: filter)
  }

  /// `hits` with one version of each file. A sync that was interrupted (its target stays in the
  /// metadata's pending targets until a sync completes) may have written a file's new chunks
  /// before deleting the old ones; the version of the recorded commit is kept, the one written
  /// towards a pending target dropped.
  static func oneVersionPerFile(_ hits: [SearchHit], interruptedTargets targets: Set<String>) -> [SearchHit] {
    var settled: [String: String] = [:]  // path -> a file hash not written by an unfinished sync
    for hit in hits where !targets.contains(hit.payload.commit) {
      settled[hit.payload.filePath] = settled[hit.payload.filePath] ?? hit.payload.fileHash
    }
    return hits.filter { hit in
      guard let kept = settled[hit.payload.filePath] else { return true }
      return hit.payload.fileHash == kept
    }
  }

  /// Chunks that define the names the query gives, in the order of `plan.definitionLookups`: a
  /// keyword search for each name, kept where the chunk's symbol ends in that name.
  func definitions(_ plan: QueryPlan, filter: SearchFilter) async throws -> [SearchHit] {
    guard definitionWeight > 0 else { return [] }
    var found: [SearchHit] = []
    var seen: Set<String> = []
    for name in plan.definitionLookups {
      let lowered = name.lowercased()
      let hits = try await store.keywordSearch(collection, query: KeywordQuery(terms: [lowered: 1]), limit: definitionDepth, filter: filter)
      for hit in hits where hit.payload.symbol.flatMap(RankingPriors.definedName) == lowered && seen.insert(hit.payload.pointID).inserted {
        found.append(hit)
      }
    }
    return found
  }

  /// The files implementing the modules and names the query mentions (`ModuleMentions`), each by
  /// its chunk defining the mentioned name (else its first chunk), and the mention per path.
  func modules(_ plan: QueryPlan, filter: SearchFilter) async throws -> (hits: [SearchHit], implementing: [String: String]) {
    guard !plan.moduleMentions.isEmpty, resolveModuleMentions,
      filter.language == nil || filter.language == "python"
    else { return ([], [:]) }
    // Imports are followed through every file; only the files found are filtered.
    let resolver = ModuleMentions(store: store, collection: collection, paths: try await store.inventory(collection).keys)
    let glob = filter.pathGlob.map(PathGlob.init)
    let imported = Set(followReExportsInProse ? plan.moduleMentions : plan.analysis.importedNames)
    let found = try await resolver.implementingFiles(plan.moduleMentions, imported: imported).filter { glob?.matches($0.path) ?? true }
    guard !found.isEmpty else { return ([], [:]) }
    let chunks = Dictionary(grouping: try await store.points(collection, filePaths: found.map(\.path)).map(\.payload), by: \.filePath)
    var hits: [SearchHit] = []
    for (path, mention) in found {
      let name = mention.split(separator: ".").last.map(String.init) ?? mention
      let sorted = (chunks[path] ?? []).sorted { $0.chunkIndex < $1.chunkIndex }
      if let chunk = sorted.first(where: { ModuleMentions.defines(name, $0) }) ?? sorted.first {
        hits.append(SearchHit(payload: chunk, score: 0))
      }
    }
    return (hits, Dictionary(found.map { ($0.path, $0.mention) }, uniquingKeysWith: { first, _ in first }))
  }

  /// Reciprocal rank fusion of the ranked lists (keyword-only when `vector` is empty).
  func fuse(keyword: [SearchHit], vector: [SearchHit], definitions: [SearchHit] = [], modules: [SearchHit] = []) -> [SearchHit] {
    var merged: [String: SearchHit] = [:]
    for (index, hit) in keyword.enumerated() {
      var entry = hit
      entry.keywordRank = index + 1
      entry.vectorRank = nil
      entry.score = keywordWeight / (rrfK + Double(index + 1))
      merged[hit.payload.pointID] = entry
    }
    for (index, hit) in vector.enumerated() {
      let add = vectorWeight / (rrfK + Double(index + 1))
      if var entry = merged[hit.payload.pointID] {
        entry.vectorRank = index + 1
        entry.score += add
        merged[hit.payload.pointID] = entry
      } else {
        var entry = hit
        entry.keywordRank = nil
        entry.vectorRank = index + 1
        entry.score = add
        merged[hit.payload.pointID] = entry
      }
    }
    for (list, weight) in [(definitions, definitionWeight), (modules, moduleWeight)] where weight > 0 {
      for (index, hit) in list.enumerated() {
        let add = weight / (rrfK + Double(index + 1))
        if var entry = merged[hit.payload.pointID] {
          entry.score += add
          merged[hit.payload.pointID] = entry
        } else {
          var entry = hit
          entry.keywordRank = nil
          entry.vectorRank = nil
          entry.score = add
          merged[hit.payload.pointID] = entry
        }
      }
    }
    return merged.values.sorted {
      ($0.score, $1.payload.filePath, $1.payload.chunkIndex) > ($1.score, $0.payload.filePath, $0.payload.chunkIndex)
    }
  }

  /// `key=value,key=value` overrides of the knobs above, for benchmark sweeps.
  mutating func apply(tuning: String) {
    for pair in tuning.split(separator: ",") {
      let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2, let value = Double(parts[1]) else { continue }
      switch parts[0] {
      case "depth": depth = Int(value)
      case "fileDepth": fileDepth = Int(value)
      case "rrfK": rrfK = value
      case "keywordWeight": keywordWeight = value
      case "vectorWeight": vectorWeight = value
      case "definitionWeight": definitionWeight = value
      case "definitionDepth": definitionDepth = Int(value)
      case "moduleWeight": moduleWeight = value
      case "moduleMentions": resolveModuleMentions = value != 0
      case "followProse": followReExportsInProse = value != 0
      case "namedDefinition": priors.namedDefinitionFactor = value
      case "summaryForCode": priors.summaryForCodeFactor = value
      case "extraChunkShare": extraChunkShare = value
      case "splitChunkShare": splitChunkShare = value
      case "analyzeQuery": analyzeQuery = value != 0
      case "embedPlainQuery": embedPlainQuery = value != 0
      case "rankFilesByBestChunk": rankFilesByBestChunk = value != 0
      case "mentionedPath": priors.mentionedPathFactor = value
      case "mentionedModule": priors.mentionedModuleFactor = value
      case "outerFrameDiscount": priors.outerFrameDiscount = value
      case "titleDefinition": priors.titleDefinitionFactor = value
      case "prose": queryWeights.prose = value
      case "proseRepeat": queryWeights.proseRepeat = value
      case "identifier": queryWeights.identifier = value
      case "title": queryWeights.title = value
      case "frameFile": queryWeights.frameFile = value
      default:
        if let role = FileRole(rawValue: parts[0]) { priors.bugReportRoleFactor[role] = value }
      }
    }
  }
}
