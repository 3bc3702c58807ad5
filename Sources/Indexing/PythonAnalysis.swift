import Chunking
import Foundation
import Git
import GitRAGCore
import Store

/// A snapshot plus the Python project analysis, `.rag_metadata/analysis.txt`, as one more file
/// (with its own changes, `changes(since:)`).
///
/// The analysis is part of the snapshot (its hash is the blob id of the summary text), so the
/// sync invariant holds for it like for any file: a full index adds it when there is Python, an
/// incremental plan refreshes it when a `.py` path changes (or the collection lacks it) and
/// deletes it when no Python remains. A real file at the reserved path is hidden.
///
/// Each file's `PythonFileFacts` are kept in the local cache by blob id, so a sync scans only the
/// Python files that changed; a summary equal to the stored one is not written again.
final class PythonAnalysisSource: GatedSource {
  static let path = PythonAnalyzer.virtualPath
  /// Python files larger than this stay out of the summary (they are skipped by the index too).
  static let maxSourceSize = 1 << 20

  /// Every Python file is read through the gate, so the summary and the facts cache hold only
  /// what the index may hold.
  let inner: ContentGate
  /// The `file_hash` of the analysis in the collection; nil when it has none (or a half-replaced
  /// one). An incremental plan that does not touch Python then leaves it alone.
  let storedHash: String?
  let cache: EmbeddingCache?
  /// Python files read and scanned by this source (the others' facts came from the cache).
  private(set) var scannedFiles = 0
  /// Summaries built from every Python file's facts (an edit proven harmless needs none).
  private(set) var summariesBuilt = 0
  private var summary: (file: SourceFile, data: Data)??

  init(_ inner: ContentGate, storedHash: String?, cache: EmbeddingCache?) {
    self.inner = inner
    self.storedHash = storedHash
    self.cache = cache
  }

  var revision: String? { inner.revision }
  var identity: String { inner.identity }
  var repositoryIdentity: RepositoryIdentity? { inner.repositoryIdentity }

  func files() throws -> [SourceFile] {
    let files = try inner.files().filter { $0.path != Self.path }
    guard let analysis = try analysis(of: files) else { return files }
    return files + [analysis.file]
  }

  func size(of file: SourceFile) throws -> Int {
    file.path == Self.path ? try analysis()?.data.count ?? 0 : try inner.size(of: file)
  }

  func read(_ file: SourceFile) throws -> Data {
    file.path == Self.path ? try analysis()?.data ?? Data() : try inner.read(file)
  }

  func admit(_ file: SourceFile) throws -> Result<GatedText, SkipReason> {
    guard file.path == Self.path else { return try inner.admit(file) }
    let data = try analysis()?.data ?? Data()
    return inner.filter.admit(path: file.path, kind: .regular, size: data.count, attribute: .forceInclude, allowance: inner.allowance) {
      data
    }
  }

  func secretAllowance(_ path: String) -> SecretAllowance { path == Self.path ? inner.allowance : inner.secretAllowance(path) }

  func ragAttribute(_ path: String) -> RagAttribute {
    // The summary may be long; it is ours, so size and "generated" rules do not apply.
    path == Self.path ? .forceInclude : inner.ragAttribute(path)
  }

  /// The snapshot's changes plus the analysis' own change, when a Python path changed or the
  /// collection lacks it, and the summary differs from the stored one.
  func changes(since base: String) throws -> [FileChange]? {
    guard let diff = try inner.changes(since: base) else { return nil }
    var changes = diff.filter { $0.oldPath != Self.path && $0.newPath != Self.path }
    let touchesPython = changes.contains { change in
      [change.oldPath, change.newPath].contains { $0.map(Self.isPython) ?? false }
    }
    guard touchesPython || storedHash == nil else { return changes }
    if let storedHash, try leavesSummaryUnchanged(changes, storedHash: storedHash) { return changes }
    if let analysis = try analysis(), let id = ObjectID(hex: analysis.file.hash) {
      if analysis.file.hash != storedHash {
        changes.append(
          FileChange(
            kind: .modified, oldPath: Self.path, newPath: Self.path, oldID: nil, newID: id,
            oldMode: .blob, newMode: .blob, similarity: 0))
      }
    } else if storedHash != nil {
      changes.append(
        FileChange(
          kind: .deleted, oldPath: Self.path, newPath: nil, oldID: nil, newID: nil,
          oldMode: .blob, newMode: nil, similarity: 0))
    }
    return changes
  }

  static func isPython(_ path: String) -> Bool { path.hasSuffix(".py") || path.hasSuffix(".pyi") }

  /// Whether `changes` provably leave the stored summary as it is, without listing the tree: the
  /// stored summary is an overview (it shows no functions), and every Python change edits a file in
  /// place (same path, a regular file small enough before and after, so included both times)
  /// without changing its classes, imports or syntax issue. Needs the cache (for the old
  /// versions' facts and the stored summary's module count); any doubt answers false.
  private func leavesSummaryUnchanged(_ changes: [FileChange], storedHash: String) throws -> Bool {
    guard let cache else { return false }
    var edits: [(path: String, old: String, new: String)] = []
    for change in changes where [change.oldPath, change.newPath].contains(where: { $0.map(Self.isPython) ?? false }) {
      guard change.kind == .modified, let path = change.newPath, change.oldPath == path, let old = change.oldID,
        let new = change.newID, [change.oldMode, change.newMode].allSatisfy({ $0 == .blob || $0 == .executable })
      else { return false }
      edits.append((path, old.hex, new.hex))
    }
    let summaries = try? cache.fileFacts(scope: Self.summaryScope, blobs: [storedHash]) { Int(String(decoding: $0, as: UTF8.self)) }
    guard let modules = summaries?[storedHash]?.facts, modules > PythonAnalyzer.fullListingLimit else { return false }
    let scope = cacheScope
    let known = (try? cache.fileFacts(scope: scope, blobs: edits.flatMap { [$0.old, $0.new] }) { PythonFileFacts(encoded: $0) }) ?? [:]
    var fresh: [String: (size: Int, facts: [UInt8])] = [:]
    defer { if !fresh.isEmpty { try? cache.storeFileFacts(scope: scope, fresh, live: nil) } }
    for edit in edits {
      guard let old = known[edit.old], old.size <= Self.maxSourceSize else { return false }
      var new = known[edit.new]
      if new == nil {
        let file = SourceFile(path: edit.path, hash: edit.new, kind: .regular)
        let size = try inner.size(of: file)
        guard size <= Self.maxSourceSize, case .success(let gated) = try inner.admit(file) else { return false }
        let facts = PythonFileFacts(text: gated.text)
        scannedFiles += 1
        fresh[edit.new] = (size, facts.encoded())
        new = (size, facts)
      }
      guard let new, new.size <= Self.maxSourceSize, old.facts.classes == new.facts.classes,
        old.facts.imports == new.facts.imports, old.facts.issue == new.facts.issue
      else { return false }
    }
    return true
  }

  /// Cache rows of summaries already written (blob id of the text → its module count); the
  /// summary's blob id says everything, so they are shared by every repository.
  static let summaryScope = "python-summary-\(PythonFileFacts.version)"

  /// The cache rows of this repository's facts (in one cache shared by every repository).
  var cacheScope: String { "\(Self.factsScopePrefix) \(SHA256Digest.hex(identity).prefix(16))" }

  /// Facts are derived from gated text, so a change of the secret rules makes them stale too.
  static let factsScopePrefix = "python-facts-\(PythonFileFacts.version)-\(SecretRules.version)"

  private func analysis(of files: [SourceFile]? = nil) throws -> (file: SourceFile, data: Data)? {
    if let summary { return summary }
    let files = try files ?? inner.files().filter { $0.path != Self.path }
    let python = files.filter { Self.isPython($0.path) && ($0.kind == .regular || $0.kind == .executable) }
    let result = try python.isEmpty ? nil : summarize(python)
    summary = .some(result)
    return result
  }

  private func summarize(_ python: [SourceFile]) throws -> (file: SourceFile, data: Data)? {
    let scope = cacheScope
    // A cache that cannot be read is only slower.
    // Facts of older versions (made under other rules, maybe from ungated text) are dropped.
    try? cache?.dropFileFacts(scopePrefix: "python-facts-", keeping: Self.factsScopePrefix)
    let cached = (try? cache?.fileFacts(scope: scope) { PythonFileFacts(encoded: $0) }) ?? [:]
    let filter = FileFilter(maxFileSize: Self.maxSourceSize)
    var modules: [(path: String, facts: PythonFileFacts)] = []
    modules.reserveCapacity(python.count)
    var fresh: [String: (size: Int, facts: [UInt8])] = [:]
    for file in python {
      let entry = cached[file.hash] ?? fresh[file.hash].flatMap { entry in PythonFileFacts(encoded: entry.facts).map { (entry.size, $0) } }
      let size = try entry?.size ?? inner.size(of: file)
      let allowance = inner.secretAllowance(file.path)
      guard
        filter.precheck(path: file.path, kind: file.kind, size: size, attribute: inner.ragAttribute(file.path), allowance: allowance) == nil
      else { continue }
      if let entry {
        modules.append((file.path, entry.facts))
        continue
      }
      guard case .success(let gated) = try inner.admit(file) else { continue }
      let facts = PythonFileFacts(text: gated.text)
      scannedFiles += 1
      fresh[file.hash] = (size, facts.encoded())
      modules.append((file.path, facts))
    }
    if !fresh.isEmpty { try? cache?.storeFileFacts(scope: scope, fresh, live: Set(python.map(\.hash))) }
    let text = PythonAnalyzer.summarize(modules: modules)
    summariesBuilt += 1
    guard !text.isEmpty else { return nil }
    let data = Data(text.utf8)
    let hash = GitBlob.id(of: data).hex
    try? cache?.storeFileFacts(scope: Self.summaryScope, [hash: (data.count, Array(String(modules.count).utf8))], live: [hash])
    return (SourceFile(path: Self.path, hash: hash, kind: .regular), data)
  }
}

extension SyncEngine {
  /// `source` with the Python analysis added, unless this sync only adds single files.
  func withPythonAnalysis(_ source: ContentGate, collectionExisted: Bool) async throws -> GatedSource {
    if options.partial { return source }
    var storedHash: String? = nil
    if collectionExisted {
      storedHash = try await store.fileHash(options.collection, filePath: PythonAnalysisSource.path)
    }
    return PythonAnalysisSource(source, storedHash: storedHash, cache: cache)
  }
}
