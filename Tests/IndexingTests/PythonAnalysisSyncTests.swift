import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@testable import Indexing

/// The Python analysis during syncs: facts come from the cache, only changed files are scanned,
/// and an unchanged summary is not written again; the index still equals a fresh full index.
@Suite struct PythonAnalysisSyncTests {
  struct Setup {
    let repo: TemporaryGitRepository
    let folder: TemporaryDirectory
    let store: SQLiteStore
    let cache: EmbeddingCache
    let engine: SyncEngine

    init(files: [String: String]) throws {
      repo = try TemporaryGitRepository()
      try repo.commit(files, message: "seed")
      folder = try TemporaryDirectory(prefix: "git-rag-analysis")
      store = SQLiteStore(directory: folder.url)
      cache = try EmbeddingCache(url: folder.url.appendingPathComponent("cache.sqlite"))
      engine = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: cache, collection: "inc")
    }

    /// The analysis source a sync of HEAD would use, and the changes it declares since `base`
    /// (the tree diff plus the summary's own change).
    func analysed(since base: String, cache: EmbeddingCache?) async throws -> (PythonAnalysisSource, [FileChange]) {
      let repository = try Repository(path: repo.url)
      var engine = engine
      engine = SyncEngine(store: store, embedder: NoEmbedder(), cache: cache, options: engine.options)
      let existed = try await store.collectionExists(engine.options.collection)
      let snapshot = GitCommitSource(repository: repository, commit: try repository.head())
      let source = try #require(
        try await engine.withPythonAnalysis(ContentGate(snapshot, filter: FileFilter(), allowance: .none), collectionExisted: existed)
          as? PythonAnalysisSource)
      return (source, try #require(try source.changes(since: base)))
    }

    func sync() async throws -> SyncReport { try await engine.sync(repository: try Repository(path: repo.url)) }

    /// The collection equals a fresh full index of HEAD.
    func expectEqualsFullIndex() async throws {
      let full = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: nil, collection: "full")
      if try await store.collectionExists("full") { try await store.deleteCollection("full") }
      _ = try await full.sync(repository: try Repository(path: repo.url))
      #expect(try await StoreSnapshot.rows(store, "inc") == StoreSnapshot.rows(store, "full"))
    }
  }

  static func module(_ i: Int, extra: String = "") -> String {
    "import os\nfrom . import mod\(i / 10 * 10)\n\ndef handler_\(i)(request):\n    return request\n" + extra
  }

  @Test func smallProjectRescansOnlyTheEditedFile() async throws {
    var files: [String: String] = ["README.md": "# demo\n"]
    for i in 0..<12 { files["app/mod\(i).py"] = Self.module(i) }
    let setup = try Setup(files: files)
    let first = try await setup.sync()
    #expect(first.filesIndexed == 14)
    let analysis = try #require(try await setup.store.fileHash("inc", filePath: PythonAnalyzer.virtualPath))

    // A .txt commit: the analysis is neither computed nor written.
    let base = setup.repo.head
    try setup.repo.commit(["notes.txt": "hello\n"], message: "notes")
    let (untouched, txtChanges) = try await setup.analysed(since: base, cache: setup.cache)
    #expect(untouched.scannedFiles == 0)
    #expect(!txtChanges.contains { $0.newPath == PythonAnalyzer.virtualPath || $0.oldPath == PythonAnalyzer.virtualPath })
    #expect(try await setup.sync().filesIndexed == 1)

    // One module gains a function: only it is scanned, and the listing (which shows functions) changes.
    let base2 = setup.repo.head
    try setup.repo.commit(["app/mod3.py": Self.module(3, extra: "\ndef added():\n    return 1\n")], message: "edit")
    let (edited, changes) = try await setup.analysed(since: base2, cache: setup.cache)
    #expect(edited.scannedFiles == 1)
    #expect(changes.contains { $0.newPath == PythonAnalyzer.virtualPath })
    let report = try await setup.sync()
    #expect(report.filesIndexed == 2)
    let newAnalysis = try await setup.store.fileHash("inc", filePath: PythonAnalyzer.virtualPath)
    #expect(newAnalysis != nil && newAnalysis != analysis)
    let text = try await setup.store.points("inc", filePaths: [PythonAnalyzer.virtualPath]).map(\.payload.content).joined()
    #expect(text.contains("functions: handler_3, added"))
    try await setup.expectEqualsFullIndex()

    // Without the cache (GIT_RAG_NO_CACHE) every Python file is scanned, with the same result.
    let (uncached, uncachedChanges) = try await setup.analysed(since: base2, cache: nil)
    #expect(uncached.scannedFiles == 12)
    #expect(try uncached.files().last == edited.files().last)
    #expect(!uncachedChanges.contains { $0.newPath == PythonAnalyzer.virtualPath })
  }

  @Test func largeProjectEditLeavesTheUnchangedOverviewAlone() async throws {
    var files: [String: String] = [:]
    let count = PythonAnalyzer.fullListingLimit + 20
    for i in 0..<count { files["src/pkg\(i / 40)/mod\(i).py"] = Self.module(i) }
    let setup = try Setup(files: files)
    #expect(try await setup.sync().filesIndexed == count + 1)
    let analysis = try await setup.store.fileHash("inc", filePath: PythonAnalyzer.virtualPath)
    let stored = try await setup.store.points("inc", filePaths: [PythonAnalyzer.virtualPath])
    #expect(stored.first?.payload.content.contains("\(count) modules") == true)

    let base = setup.repo.head
    try setup.repo.commit(["src/pkg2/mod85.py": Self.module(85, extra: "\ndef added():\n    return 1\n")], message: "edit")
    let (edited, changes) = try await setup.analysed(since: base, cache: setup.cache)
    #expect(edited.scannedFiles == 1)
    // Proven unchanged from the edited file's old and new facts alone, without a new summary.
    #expect(edited.summariesBuilt == 0)
    #expect(try edited.files().last?.hash == analysis)
    #expect(edited.summariesBuilt == 1 && edited.scannedFiles == 1)
    #expect(!changes.contains { $0.newPath == PythonAnalyzer.virtualPath || $0.oldPath == PythonAnalyzer.virtualPath })

    let report = try await setup.sync()
    #expect(report.filesIndexed == 1)
    #expect(report.chunksWritten == (try await setup.store.points("inc", filePaths: ["src/pkg2/mod85.py"]).count))
    #expect(try await setup.store.fileHash("inc", filePath: PythonAnalyzer.virtualPath) == analysis)
    try await setup.expectEqualsFullIndex()

    // A new class in a module changes the overview: it is rewritten.
    let base2 = setup.repo.head
    try setup.repo.commit(["src/pkg2/mod86.py": Self.module(86, extra: "\nclass Fresh:\n    pass\n")], message: "class")
    let (classEdit, classChanges) = try await setup.analysed(since: base2, cache: setup.cache)
    #expect(classEdit.scannedFiles == 1 && classEdit.summariesBuilt == 1)
    #expect(classChanges.contains { $0.newPath == PythonAnalyzer.virtualPath })
    #expect(try await setup.sync().filesIndexed == 2)
    let withClass = try await setup.store.points("inc", filePaths: [PythonAnalyzer.virtualPath]).map(\.payload.content).joined()
    #expect(withClass.contains("classes: Fresh"))
    try await setup.expectEqualsFullIndex()

    // A new package changes the overview: it is rewritten, and the index still equals a full one.
    try setup.repo.commit(["src/extra/thing.py": "class Thing:\n    pass\n"], message: "package")
    #expect(try await setup.sync().filesIndexed == 2)
    #expect(try await setup.store.fileHash("inc", filePath: PythonAnalyzer.virtualPath) != analysis)
    try await setup.expectEqualsFullIndex()
    // The cache holds the facts of every version seen: the seed's files, two edits, one new file.
    let repository = try Repository(path: setup.repo.url)
    let scope = PythonAnalysisSource(
      ContentGate(GitCommitSource(repository: repository, commit: try repository.head()), filter: FileFilter(), allowance: .none),
      storedHash: nil, cache: nil
    ).cacheScope
    #expect(try setup.cache.fileFactsCount(scope: scope) == count + 3)
  }
}
