import Chunking
import Foundation
import Git
import GitRAGCore
import Store

/// A snapshot plus the Python project analysis, `.rag_metadata/analysis.txt`, as one more file.
///
/// The analysis is part of the snapshot (its hash is the blob id of the summary text), so the
/// sync invariant holds for it like for any file: a full index adds it when there is Python, an
/// incremental plan refreshes it when a `.py` path changes (or the collection lacks it) and
/// deletes it when no Python remains. A real file at the reserved path is hidden.
final class PythonAnalysisSource: ContentSource {
  static let path = PythonAnalyzer.virtualPath
  /// Python files larger than this stay out of the summary (they are skipped by the index too).
  static let maxSourceSize = 1 << 20

  let inner: ContentSource
  /// Whether the collection already holds the analysis (an incremental plan that does not touch
  /// Python then leaves it alone).
  let collectionHasAnalysis: Bool
  private var summary: (file: SourceFile, data: Data)??

  init(_ inner: ContentSource, collectionHasAnalysis: Bool) {
    self.inner = inner
    self.collectionHasAnalysis = collectionHasAnalysis
  }

  var revision: String? { inner.revision }
  var identity: String { inner.identity }

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

  func ragAttribute(_ path: String) -> RagAttribute {
    // The summary may be long; it is ours, so size and "generated" rules do not apply.
    path == Self.path ? .forceInclude : inner.ragAttribute(path)
  }

  /// `diff` plus the analysis' own change when a Python path changed or the collection lacks it.
  func amend(_ diff: [FileChange]?) throws -> [FileChange]? {
    guard let diff else { return nil }
    var changes = diff.filter { $0.oldPath != Self.path && $0.newPath != Self.path }
    let touchesPython = changes.contains { change in
      [change.oldPath, change.newPath].contains { $0.map(Self.isPython) ?? false }
    }
    guard touchesPython || !collectionHasAnalysis else { return changes }
    if let analysis = try analysis(), let id = ObjectID(hex: analysis.file.hash) {
      changes.append(FileChange(kind: .modified, oldPath: Self.path, newPath: Self.path, oldID: nil, newID: id,
                                oldMode: .blob, newMode: .blob, similarity: 0))
    } else if collectionHasAnalysis {
      changes.append(FileChange(kind: .deleted, oldPath: Self.path, newPath: nil, oldID: nil, newID: nil,
                                oldMode: .blob, newMode: nil, similarity: 0))
    }
    return changes
  }

  static func isPython(_ path: String) -> Bool { path.hasSuffix(".py") || path.hasSuffix(".pyi") }

  private func analysis(of files: [SourceFile]? = nil) throws -> (file: SourceFile, data: Data)? {
    if let summary { return summary }
    let files = try files ?? inner.files().filter { $0.path != Self.path }
    let filter = FileFilter(maxFileSize: Self.maxSourceSize)
    var sources: [(path: String, text: String)] = []
    for file in files where Self.isPython(file.path) && (file.kind == .regular || file.kind == .executable) {
      let size = try inner.size(of: file)
      guard filter.precheck(path: file.path, kind: file.kind, size: size, attribute: inner.ragAttribute(file.path)) == nil else { continue }
      sources.append((file.path, String(decoding: try inner.read(file), as: UTF8.self)))
    }
    let text = PythonAnalyzer.summarize(files: sources)
    let result: (file: SourceFile, data: Data)?
    if text.isEmpty {
      result = nil
    } else {
      let data = Data(text.utf8)
      result = (SourceFile(path: Self.path, hash: GitBlob.id(of: data).hex, kind: .regular), data)
    }
    summary = .some(result)
    return result
  }
}

extension SyncEngine {
  /// `source` with the Python analysis added, unless this sync only adds single files.
  func withPythonAnalysis(_ source: ContentSource) async throws -> ContentSource {
    if options.partial { return source }
    var hasAnalysis = false
    if try await store.collectionExists(options.collection) {
      hasAnalysis = !(try await store.points(options.collection, filePaths: [PythonAnalysisSource.path]).isEmpty)
    }
    return PythonAnalysisSource(source, collectionHasAnalysis: hasAnalysis)
  }
}
