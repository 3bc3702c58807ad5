import Foundation
import GitRAGCore
import GitRAGTestSupport
import Testing

/// A folder to run the binary in, with its own HOME and store, outside any repository.
private struct UploadSandbox {
  let work: TemporaryDirectory
  let home: TemporaryDirectory
  var environment: [String: String]

  init(extra: [String: String] = [:]) throws {
    work = try TemporaryDirectory(prefix: "git-rag-e2e-upload")
    home = try TemporaryDirectory(prefix: "git-rag-e2e-home")
    environment = TemporaryGitRepository.isolatedEnvironment(home: home.path)
    environment["XDG_DATA_HOME"] = home.path + "/data"
    environment["XDG_CACHE_HOME"] = home.path + "/cache"
    environment["GIT_CEILING_DIRECTORIES"] = work.url.deletingLastPathComponent().path
    for (key, value) in extra { environment[key] = value }
  }

  func run(_ arguments: [String]) throws -> ProcessResult {
    try GitRAGBinary.run(arguments, in: work.url, environment: environment)
  }

  /// Runs with `--json` and decodes the report.
  func report(_ arguments: [String]) throws -> [String: Any] {
    let result = try run(arguments + ["--json"])
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
  }

  /// Every chunk a search returns, as comparable rows.
  func chunks(_ collection: String, embedder: [String], query: String) throws -> Set<String> {
    let result = try run(["search", "--collection", collection, "--json", "-k", "100", query] + embedder)
    #expect(result.status == 0, "\(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let hits = object?["results"] as? [[String: Any]] ?? []
    return Set(
      hits.compactMap { hit in
        guard let payload = hit["payload"] as? [String: Any] else { return nil }
        return
          "\(payload["file_path"] ?? "")@\(payload["file_hash"] ?? ""):\(payload["start_line"] ?? "")-\(payload["end_line"] ?? "") \(payload["content"] ?? "")"
      })
  }
}

@Suite struct UploadEndToEndTests {
  @Test func uploadFileThenReplaceThenNoOp() throws {
    let box = try UploadSandbox()
    try box.work.write("notes.md", "# Notes\n\nFirst version.\n")
    try box.work.write("other.md", "# Other\n")
    let none = ["--embedder", "none"]
    let first = try box.report(["upload", "file", "notes.md", "docs"] + none)
    #expect(first["files_added"] as? Int == 1)
    _ = try box.report(["upload", "file", "other.md", "docs"] + none)
    let same = try box.report(["upload", "file", "notes.md", "docs"] + none)
    #expect(same["mode"] as? String == "up-to-date")
    try box.work.write("notes.md", "# Notes\n\nSecond version.\n")
    let second = try box.report(["upload", "file", "notes.md", "docs"] + none)
    #expect(second["files_modified"] as? Int == 1)
    let info = try box.run(["collection", "info", "docs", "--json"] + none)
    #expect(info.stdout.contains("\"files\" : 2"))
    let hits = try box.chunks("docs", embedder: none, query: "version")
    #expect(hits.contains { $0.hasPrefix("notes.md@") && $0.contains("Second version.") })
    #expect(!hits.contains { $0.contains("First version.") })
  }

  @Test func uploadFileErrorsAreOneLine() throws {
    let box = try UploadSandbox()
    try FileManager.default.createDirectory(at: box.work.url.appendingPathComponent("folder"), withIntermediateDirectories: true)
    try box.work.write("blob.bin", "\u{0}\u{1}\u{2}binary")
    let cases: [(String, String)] = [
      ("missing.txt", "File not found: "),
      ("folder", "is a directory"),
      ("blob.bin", "Unsupported type: "),
    ]
    for (path, expected) in cases {
      let result = try box.run(["upload", "file", path, "c", "--embedder", "none"])
      #expect(result.status == ExitStatus.failure)
      #expect(result.stderr.contains(expected), "\(result.stderr)")
      #expect(result.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(result.stderr)")
    }
    try box.work.write("big.txt", String(repeating: "line\n", count: 100))
    let big = try box.run(["upload", "file", "big.txt", "c", "--embedder", "none", "--max-file-size", "64"])
    #expect(big.status == ExitStatus.failure)
    #expect(big.stderr.contains("File too large: "))
  }

  @Test func uploadArchiveWithTheEmbeddingServer() throws {
    let server = try TestServer(script: "embedding_server.py", arguments: ["--dimension", "16"])
    defer { server.stop() }
    let box = try UploadSandbox(extra: ["MODEL_NAME": "test"])
    let embedder = ["--embedder", "openai", "--embedding-url", "\(server.baseURL)/v1"]
    try box.work.write("src/pkg/app.py", "from pkg import util\n\ndef run():\n    return util.answer()\n")
    try box.work.write("src/pkg/util.py", "def answer():\n    return 42\n")
    try box.work.write("src/README.md", "# Package\n\nAnswers questions.\n")
    try runProcess(
      "tar",
      ["-czf", box.work.url.appendingPathComponent("project.tar.gz").path, "-C", box.work.url.appendingPathComponent("src").path, "."])
    let report = try box.report(["upload", "archive", "project.tar.gz", "arc"] + embedder)
    #expect(report["files_added"] as? Int == 4)  // three files plus the Python analysis
    #expect((report["chunks_embedded"] as? Int ?? 0) > 0)
    let hits = try box.chunks("arc", embedder: embedder, query: "answer")
    #expect(hits.contains { $0.hasPrefix("pkg/util.py@") })
    #expect(hits.contains { $0.hasPrefix(".rag_metadata/analysis.txt@") })

    // A hostile entry is reported and skipped; the upload still succeeds.
    let evil = box.work.url.appendingPathComponent("evil.tar")
    try runProcess(
      "python3",
      [
        "-c",
        """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w") as t:
            for name, data in [("../escape.txt", b"x"), ("fine.md", b"# Fine\\n")]:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        """, evil.path,
      ])
    let result = try box.run(["upload", "archive", "evil.tar", "evil"] + embedder)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("Skipped \"../escape.txt\": path traversal (..)"))
    #expect(!FileManager.default.fileExists(atPath: box.work.url.deletingLastPathComponent().appendingPathComponent("escape.txt").path))
  }

  @Test func syncDirConvergesToAFreshUpload() throws {
    let server = try TestServer(script: "embedding_server.py", arguments: ["--dimension", "16"])
    defer { server.stop() }
    let box = try UploadSandbox(extra: ["MODEL_NAME": "test"])
    let embedder = ["--embedder", "openai", "--embedding-url", "\(server.baseURL)/v1"]
    let folder = box.work.url.appendingPathComponent("plain").path
    try box.work.write("plain/.gitignore", "*.tmp\n")
    try box.work.write("plain/guide.md", "# Guide\n\nInstall it.\n")
    try box.work.write("plain/tool.py", "def tool():\n    return 'tool'\n")
    try box.work.write("plain/old.txt", "to be deleted\n")
    try box.work.write("plain/scratch.tmp", "ignored\n")
    let first = try box.report(["sync", "--dir", folder, "--collection", "dir"] + embedder)
    #expect(first["mode"] as? String == "full")
    #expect(first["files_added"] as? Int == 5)  // .gitignore, guide, tool, old, analysis

    try box.work.write("plain/guide.md", "# Guide\n\nInstall it, then run it.\n")
    try FileManager.default.removeItem(atPath: folder + "/old.txt")
    try FileManager.default.moveItem(atPath: folder + "/tool.py", toPath: folder + "/helper.py")
    try box.work.write("plain/new.md", "# New\n")
    let second = try box.report(["sync", "--dir", folder, "--collection", "dir"] + embedder)
    #expect(second["mode"] as? String == "reconcile")
    #expect(second["files_renamed"] as? Int == 1)
    #expect(second["files_deleted"] as? Int == 1)

    _ = try box.report(["sync", "--dir", folder, "--collection", "fresh"] + embedder)
    for query in ["guide install run", "tool helper", "new", "python project analysis"] {
      #expect(
        try box.chunks("dir", embedder: embedder, query: query) == (try box.chunks("fresh", embedder: embedder, query: query)), "\(query)")
    }
    let again = try box.report(["sync", "--dir", folder, "--collection", "dir"] + embedder)
    #expect(again["mode"] as? String == "up-to-date")
  }

  @Test func badRepositoryURLsFailFastWithOneLine() throws {
    let box = try UploadSandbox()
    let unsupported = try box.run(["upload", "repo", "ftp://example.com/x.git", "c", "--embedder", "none"])
    #expect(unsupported.status == 2)
    #expect(unsupported.stderr.contains("Unsupported repository URL"))
    let ext = try box.run(["upload", "repo", "ext::sh -c touch% /tmp/pwned", "c", "--embedder", "none"])
    #expect(ext.status == 2)
    #expect(ext.stderr.contains("Refusing the ext:: transport"))
    let credentials = try box.run(["upload", "repo", "https://me:hunter2@example.com/x.git", "c", "--embedder", "none"])
    #expect(credentials.status == 2)
    #expect(!credentials.stderr.contains("hunter2"))

    let port =
      Int(
        try runProcess("python3", ["-c", "import socket\ns=socket.socket()\ns.bind(('127.0.0.1',0))\nprint(s.getsockname()[1])"])
          .stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
    let start = Date()
    let closed = try box.run(["upload", "repo", "https://127.0.0.1:\(port)/x.git", "c", "--embedder", "none"])
    #expect(closed.status == ExitStatus.failure)
    #expect(closed.stderr.contains("Cannot connect to 127.0.0.1:\(port)"))
    #expect(Date().timeIntervalSince(start) < 10)
  }
}
