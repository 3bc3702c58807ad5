import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// A store in a temporary folder and an engine writing to it without embeddings.
private struct Bench {
  let folder: TemporaryDirectory
  let store: SQLiteStore

  init() throws {
    folder = try TemporaryDirectory(prefix: "git-rag-sources")
    store = SQLiteStore(directory: folder.url.appendingPathComponent("store"))
  }

  func engine(_ collection: String) -> SyncEngine {
    SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: nil, collection: collection)
  }

  func rows(_ collection: String) async throws -> Set<ChunkRow> {
    try await StoreSnapshot.rows(store, collection)
  }

  func inventory(_ collection: String) async throws -> [String: String] {
    try await store.inventory(collection)
  }
}

@Suite struct IgnoreRulesTests {
  @Test func patternsStarsAnchorsDirectoriesAndNegation() {
    let rules = IgnoreRules(
      """
      # comment
      *.log
      !keep.log
      /build
      docs/**/*.tmp
      **/cache/
      out/
      a?c.txt
      [xy]z.md
      """)
    func ignored(_ path: String, dir: Bool = false) -> Bool { rules.decision(for: path, isDirectory: dir) == true }
    #expect(ignored("x.log"))
    #expect(ignored("deep/nested/y.log"))
    #expect(!ignored("keep.log"))
    #expect(rules.decision(for: "keep.log", isDirectory: false) == false)
    #expect(ignored("build", dir: true))
    #expect(!ignored("src/build", dir: true))
    #expect(ignored("docs/a/b/c.tmp"))
    #expect(ignored("docs/c.tmp"))
    #expect(!ignored("other/c.tmp"))
    #expect(ignored("a/b/cache", dir: true))
    #expect(!ignored("a/b/cache"))
    #expect(ignored("out", dir: true))
    #expect(!ignored("out"))
    #expect(ignored("abc.txt"))
    #expect(!ignored("abbc.txt"))
    #expect(ignored("yz.md"))
    #expect(!ignored("zz.md"))
    #expect(rules.decision(for: "main.swift", isDirectory: false) == nil)
  }

  @Test func archivePathsAreNormalisedOrRefused() throws {
    #expect(try ArchiveSource.normalize("./a//b/./c.txt").get() == "a/b/c.txt")
    #expect(throws: ArchivePathError.self) { try ArchiveSource.normalize("/etc/passwd").get() }
    #expect(throws: ArchivePathError.self) { try ArchiveSource.normalize("a/../../x").get() }
    #expect(throws: ArchivePathError.self) { try ArchiveSource.normalize("C:\\x").get() }
  }
}

@Suite struct SourcesTests {
  // MARK: - sync --dir

  @Test func directorySyncConvergesToAFreshIndexAfterAddModifyDeleteRename() async throws {
    let bench = try Bench()
    let dir = try TemporaryDirectory(prefix: "git-rag-plain")
    try dir.write(".gitignore", "*.log\nbuild/\n!important.log\n")
    try dir.write("README.md", "# Project\n\nIntro text.\n")
    try dir.write("src/app.py", "import util\n\ndef main():\n    return util.helper()\n")
    try dir.write("src/util.py", "def helper():\n    return 42\n")
    try dir.write("notes/todo.txt", "one\ntwo\nthree\n")
    try dir.write("debug.log", "ignored\n")
    try dir.write("important.log", "kept by negation\n")
    try dir.write("build/out.txt", "ignored folder\n")
    try dir.write(".git/config", "[core]\n")

    let engine = bench.engine("dir")
    let first = try await engine.sync(source: try DirectorySource(root: dir.url))
    #expect(first.mode == .full)
    let paths = Set(try await bench.inventory("dir").keys)
    #expect(
      paths == [".gitignore", "README.md", "src/app.py", "src/util.py", "notes/todo.txt", "important.log", ".rag_metadata/analysis.txt"])
    #expect(try await bench.inventory("dir")["README.md"] == GitBlob.id(of: Data("# Project\n\nIntro text.\n".utf8)).hex)

    // Modify, delete, add, rename.
    try dir.write("README.md", "# Project\n\nBetter intro.\n")
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("notes/todo.txt"))
    try dir.write("docs/guide.md", "# Guide\n\nSteps.\n")
    try FileManager.default.moveItem(
      at: dir.url.appendingPathComponent("src/util.py"), to: dir.url.appendingPathComponent("src/helpers.py"))
    let second = try await engine.sync(source: try DirectorySource(root: dir.url))
    #expect(second.mode == .reconcile)
    #expect(second.filesRenamed == 1)
    #expect(second.filesDeleted == 1)
    #expect(second.filesModified >= 1)

    let fresh = try await bench.engine("fresh").sync(source: try DirectorySource(root: dir.url))
    #expect(fresh.mode == .full)
    #expect(try await bench.rows("dir") == (try await bench.rows("fresh")))
    let analysis = try await bench.store.points("dir", filePaths: [".rag_metadata/analysis.txt"])
    #expect(analysis.contains { $0.payload.content.contains("helpers") })

    let third = try await engine.sync(source: try DirectorySource(root: dir.url))
    #expect(third.mode == .upToDate)

    // No Python left: the analysis goes too.
    try FileManager.default.removeItem(at: dir.url.appendingPathComponent("src"))
    _ = try await engine.sync(source: try DirectorySource(root: dir.url))
    #expect(try await bench.inventory("dir")[".rag_metadata/analysis.txt"] == nil)
  }

  @Test func directorySourceRefusesMissingPathsAndFiles() throws {
    let dir = try TemporaryDirectory()
    let file = try dir.write("a.txt", "x")
    #expect(throws: GitRAGError.self) { try DirectorySource(root: dir.url.appendingPathComponent("nope")) }
    #expect(throws: GitRAGError.self) { try DirectorySource(root: file) }
  }

  // MARK: - upload file

  @Test func uploadFileReplacesItsOwnChunksAndLeavesOtherFilesAlone() async throws {
    let bench = try Bench()
    let dir = try TemporaryDirectory(prefix: "git-rag-plain")
    try dir.write("a.md", "# A\n\nalpha\n")
    try dir.write("b.md", "# B\n\nbeta\n")
    let engine = bench.engine("files")
    let a = try await engine.upsertFiles(
      source: try SingleFileSource(url: dir.url.appendingPathComponent("a.md"), path: "a.md", maxFileSize: 4096))
    #expect(a.filesAdded == 1)
    // The same content under another name must not move a.md's chunks away.
    try dir.write("copy.md", "# A\n\nalpha\n")
    _ = try await engine.upsertFiles(
      source: try SingleFileSource(url: dir.url.appendingPathComponent("copy.md"), path: "copy.md", maxFileSize: 4096))
    _ = try await engine.upsertFiles(
      source: try SingleFileSource(url: dir.url.appendingPathComponent("b.md"), path: "b.md", maxFileSize: 4096))
    #expect(Set(try await bench.inventory("files").keys) == ["a.md", "b.md", "copy.md"])

    let again = try await engine.upsertFiles(
      source: try SingleFileSource(url: dir.url.appendingPathComponent("a.md"), path: "a.md", maxFileSize: 4096))
    #expect(again.mode == .upToDate)
    #expect(again.chunksWritten == 0)

    try dir.write("a.md", "# A\n\nalpha, revised\n")
    let changed = try await engine.upsertFiles(
      source: try SingleFileSource(url: dir.url.appendingPathComponent("a.md"), path: "a.md", maxFileSize: 4096))
    #expect(changed.filesModified == 1)
    let points = try await bench.store.points("files", filePaths: ["a.md"])
    #expect(!points.isEmpty)
    #expect(points.allSatisfy { $0.payload.fileHash == GitBlob.id(of: Data("# A\n\nalpha, revised\n".utf8)).hex })
    #expect(Set(try await bench.inventory("files").keys) == ["a.md", "b.md", "copy.md"])
  }

  @Test func uploadFileRefusesWhatCannotBeIndexed() throws {
    let dir = try TemporaryDirectory()
    func check(_ url: URL, _ expected: (SourceError) -> Bool) {
      do {
        _ = try SingleFileSource(url: url, path: url.lastPathComponent, maxFileSize: 100)
        Issue.record("\(url.lastPathComponent) was accepted")
      } catch let error as SourceError {
        #expect(expected(error), "\(error)")
        #expect(!(error.errorDescription ?? "").contains("\n"))
      } catch {
        Issue.record("unexpected \(error)")
      }
    }
    check(dir.url.appendingPathComponent("missing.txt")) { if case .fileNotFound = $0 { true } else { false } }
    try FileManager.default.createDirectory(at: dir.url.appendingPathComponent("folder"), withIntermediateDirectories: true)
    check(dir.url.appendingPathComponent("folder")) { if case .isDirectory = $0 { true } else { false } }
    check(try dir.write("big.txt", String(repeating: "x\n", count: 100))) { if case .tooLarge = $0 { true } else { false } }
    check(try dir.write("bin.dat", data: Data([0x7F, 0x45, 0x00, 0x01]))) { if case .unsupportedType = $0 { true } else { false } }
    check(try dir.write(".env", "A=1\n")) { if case .secret = $0 { true } else { false } }
    check(URL(fileURLWithPath: "/dev/null")) { if case .notRegularFile = $0 { true } else { false } }
    #expect(SourceError.fileNotFound("/x").errorDescription == "File not found: /x. Check the path.")
  }

  // MARK: - upload archive

  @Test(arguments: ["tar", "tgz", "tbz2", "txz", "zip"])
  func everyArchiveFormatIndexesTheSameFiles(format: String) async throws {
    let bench = try Bench()
    let dir = try TemporaryDirectory()
    let archive = dir.url.appendingPathComponent("project.\(format)")
    try ArchiveMaker.make(
      archive, format: format,
      entries: [
        .init(name: "./README.md", text: "# Readme\n\nHello.\n"),
        .init(name: "src", kind: "dir"),
        .init(name: "src//main.py", text: "def main():\n    print('hi')\n"),
      ])
    let source = try ArchiveSource(url: archive)
    #expect(try source.files().map(\.path) == ["README.md", "src/main.py"])
    _ = try await bench.engine("arc").sync(source: source)
    let inventory = try await bench.inventory("arc")
    #expect(inventory["README.md"] == GitBlob.id(of: Data("# Readme\n\nHello.\n".utf8)).hex)
    #expect(inventory["src/main.py"] != nil)
    #expect(inventory[".rag_metadata/analysis.txt"] != nil)
  }

  @Test func anArchiveReplacesTheCollectionsContent() async throws {
    let bench = try Bench()
    let dir = try TemporaryDirectory()
    let first = dir.url.appendingPathComponent("v1.tgz"), second = dir.url.appendingPathComponent("v2.tgz")
    try ArchiveMaker.make(first, format: "tgz", entries: [.init(name: "a.md", text: "# A\n"), .init(name: "b.md", text: "# B\n")])
    try ArchiveMaker.make(second, format: "tgz", entries: [.init(name: "a.md", text: "# A2\n"), .init(name: "c/b.md", text: "# B\n")])
    let engine = bench.engine("arc")
    _ = try await engine.sync(source: try ArchiveSource(url: first))
    let report = try await engine.sync(source: try ArchiveSource(url: second))
    #expect(report.filesRenamed == 1)
    #expect(report.filesModified == 1)
    #expect(Set(try await bench.inventory("arc").keys) == ["a.md", "c/b.md"])
  }

  @Test func hostileEntriesAreSkippedWithAReasonAndNothingIsWritten() throws {
    let dir = try TemporaryDirectory()
    let marker = "git-rag-escape-\(UUID().uuidString)"
    let archive = dir.url.appendingPathComponent("evil.tar")
    try ArchiveMaker.make(
      archive, format: "tar",
      entries: [
        .init(name: "/tmp/\(marker)-abs", text: "absolute\n"),
        .init(name: "../../tmp/\(marker)-dots", text: "traversal\n"),
        .init(name: "link", kind: "symlink", target: "/etc/passwd"),
        .init(name: "ok.txt", text: "fine\n"),
        .init(name: "hard", kind: "hardlink", target: "ok.txt"),
        .init(name: "null", kind: "chr"),
        .init(name: "bad", text: "invalid name\n", nameHex: "6261645f ff fe 2e747874".replacingOccurrences(of: " ", with: "")),
      ])
    let before = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    let source = try ArchiveSource(url: archive)
    let reasons = Dictionary(source.skipped.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, _ in a })
    #expect(reasons["/tmp/\(marker)-abs"] == "absolute path")
    #expect(reasons["../../tmp/\(marker)-dots"] == "path traversal (..)")
    #expect(reasons["link"] == "symlink")
    #expect(reasons["hard"] == "hard link")
    #expect(reasons["null"] == "device or special file")
    let paths = try source.files().map(\.path)
    #expect(paths.contains("ok.txt"))
    #expect(paths.contains("bad_\u{FFFD}\u{FFFD}.txt"))
    #expect(paths.count == 2)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == before)
    #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-abs"))
    #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-dots"))
  }

  @Test func zipSymlinksAreSkipped() throws {
    let dir = try TemporaryDirectory()
    let archive = dir.url.appendingPathComponent("links.zip")
    try ArchiveMaker.make(
      archive, format: "zip",
      entries: [
        .init(name: "up", kind: "symlink", target: "../../etc/passwd"), .init(name: "a.txt", text: "a\n"),
      ])
    let source = try ArchiveSource(url: archive)
    #expect(try source.files().map(\.path) == ["a.txt"])
    #expect(source.skipped.map(\.reason) == ["symlink"])
  }

  @Test(arguments: ["zip", "tgz"])
  func compressionBombsAreRefused(format: String) throws {
    let dir = try TemporaryDirectory()
    let archive = dir.url.appendingPathComponent("bomb.\(format)")
    // 50 MB of zeros compresses about 1000:1.
    try ArchiveMaker.make(
      archive, format: format, entries: [.init(name: "zeros.txt", text: String(repeating: "0", count: 1 << 20), times: 50)])
    #expect(throws: SourceError.self) { try ArchiveSource(url: archive) }
    do {
      _ = try ArchiveSource(url: archive)
    } catch let error as SourceError {
      guard case .compressionRatio(_, let entry, let ratio, let limit) = error else { Issue.record("\(error)"); return }
      #expect(entry == "zeros.txt")
      #expect(ratio > limit)
    }
  }

  @Test func entryCountAndTotalSizeAreBounded() throws {
    let dir = try TemporaryDirectory()
    let many = dir.url.appendingPathComponent("many.tar")
    try ArchiveMaker.makeMany(many, count: 100_000)
    var limits = ArchiveLimits()
    limits.maxEntries = 1000
    #expect(throws: SourceError.tooManyEntries(path: many.path, limit: 1000)) { try ArchiveSource(url: many, limits: limits) }

    let big = dir.url.appendingPathComponent("big.tar")
    try ArchiveMaker.make(big, format: "tar", entries: (0..<4).map { .init(name: "f\($0).txt", text: String(repeating: "y", count: 1000)) })
    limits = ArchiveLimits()
    limits.maxTotalBytes = 2500
    #expect(throws: SourceError.tooLargeUncompressed(path: big.path, limit: 2500)) { try ArchiveSource(url: big, limits: limits) }
  }

  @Test func notAnArchiveIsRefused() throws {
    let dir = try TemporaryDirectory()
    let text = try dir.write("plain.txt", "just text\n")
    #expect(throws: SourceError.self) { try ArchiveSource(url: text) }
    #expect(throws: SourceError.fileNotFound(dir.url.appendingPathComponent("none.zip").path)) {
      try ArchiveSource(url: dir.url.appendingPathComponent("none.zip"))
    }
  }
}
