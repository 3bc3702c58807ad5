import Foundation
import GitRAGTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The outer layers under a hostile user: terminal output, store folders, names, archives,
/// locks, rounds, damaged stores and a global hooks folder.
@Suite struct HardeningEndToEndTests {
  static let escape = "\u{1B}"

  @Test func hostileNamesAndContentsNeverReachTheTerminalRaw() throws {
    let e2e = try EndToEnd()
    let name = "evil\u{1B}]0;pwned\u{07}\u{202E}gpj.py"
    try e2e.repo.commit([
      name:
        "def pwned_function():\n    \"\"\"\u{1B}[2J\u{1B}[H\u{1B}]8;;http://evil.example\u{1B}\\click\u{1B}]8;;\u{1B}\\\"\"\"\n    return '\u{9B}31m red'\n",
      "README.md": "# Title\n\nNothing to see.\n",
    ])
    try e2e.gitRAG("sync", "--collection", "main")
    for arguments in [
      ["search", "--collection", "main", "pwned_function"], ["search", "--collection", "main", "--files", "--explain", "pwned_function"],
    ] {
      let result = try e2e.run(arguments)
      #expect(result.status == 0, "\(result.stderr)")
      #expect(result.stdout.contains("evil\\x1b]0;pwned\\x07\\u{202e}gpj.py"), "\(result.stdout)")
      #expect(!result.stdout.contains(Self.escape) && !result.stdout.contains("\u{202E}") && !result.stdout.contains("\u{9B}"))
    }
    let snippet = try e2e.gitRAG("search", "--collection", "main", "pwned_function")
    #expect(snippet.stdout.contains("\\x1b[2J"))
    // JSON keeps the exact text, escaped by JSON itself.
    let json = try e2e.gitRAG("search", "--collection", "main", "--json", "pwned_function")
    #expect(!json.stdout.contains(Self.escape))
    #expect(json.stdout.contains("\\u001b[2J"))

    let inspect = try e2e.gitRAG("inspect", "--full", name)
    #expect(inspect.status == 0, "\(inspect.stderr)")
    #expect(!inspect.stdout.contains(Self.escape) && !inspect.stdout.contains("\u{202E}"))
    #expect(inspect.stdout.contains("\\x1b[2J"))
    // Error messages naming a hostile path are escaped too.
    let missing = try e2e.gitRAG("inspect", "gone\u{1B}[31m.py")
    #expect(missing.status == 3)
    #expect(missing.stderr.contains("gone\\x1b[31m.py") && !missing.stderr.contains(Self.escape))
  }

  @Test func hostileArchiveEntryNamesAreEscapedWhenReported() throws {
    let e2e = try EndToEnd()
    let tar = e2e.data.url.appendingPathComponent("hostile.tar")
    try runProcess(
      "python3",
      [
        "-c",
        """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w") as t:
            for name, data in [("../\\x1b]0;title\\x07.txt", b"x"), ("fine.md", b"# Fine\\n")]:
                info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        """, tar.path,
      ])
    let result = try e2e.gitRAG("upload", "archive", tar.path, "arc", "--embedder", "none")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("path traversal (..)"))
    #expect(!result.stderr.contains(Self.escape) && !result.stdout.contains(Self.escape))
  }

  @Test func aStorePathThatIsAFile() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n"])
    let file = try e2e.data.write("not-a-folder", "x")
    for command in [["sync"], ["status"], ["search", "x"]] {
      let result = try e2e.run(command + ["--store-path", file.path])
      #expect(result.status == 2, "\(command): \(result.stderr)")
      #expect(
        result.stderr
          == "error: The store folder \(file.path) is a file, not a folder. Point --store-path (or GIT_RAG_STORE_PATH, rag.storePath) at a folder; it is created if missing.\n"
      )
    }
    #expect(try String(contentsOf: file, encoding: .utf8) == "x")
  }

  @Test func uploadFileNameMustStayInsideTheCollection() throws {
    let e2e = try EndToEnd()
    let notes = try e2e.data.write("notes.md", "# Notes\n")
    for (name, reason) in [
      ("../../../../etc/x.md", "path traversal (..)"), ("/etc/x.md", "absolute path"), ("docs/../../x.md", "path traversal (..)"),
    ] {
      let result = try e2e.gitRAG("upload", "file", notes.path, "docs", "--name", name, "--embedder", "none")
      #expect(result.status == 3)
      #expect(
        result.stderr
          == "error: Cannot store a file as \(name): \(reason). Give --name a relative path inside the collection, e.g. docs/notes.md.\n")
    }
    let fine = try e2e.gitRAG("upload", "file", notes.path, "docs", "--name", "./guides//notes.md", "--embedder", "none", "--json")
    #expect(fine.status == 0, "\(fine.stderr)")
    let hits = try e2e.gitRAG("search", "--collection", "docs", "--embedder", "none", "--json", "notes")
    #expect(hits.stdout.contains("\"file_path\" : \"guides/notes.md\""))
  }

  @Test func aTarCutAtAnEntryBoundaryIsRefusedAndNothingIsReplaced() throws {
    let e2e = try EndToEnd()
    let build = """
      import gzip, io, sys, tarfile
      buffer = io.BytesIO()
      with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as t:
          for i in range(50):
              data = f"# File {i}\\n\\nText of file number {i}.\\n".encode()
              info = tarfile.TarInfo(f"doc{i:02}.md"); info.size = len(data); t.addfile(info, io.BytesIO(data))
      whole = buffer.getvalue()
      # Each entry is one header block and one data block: cut after entry 30, at its boundary.
      data = whole if sys.argv[2] == "whole" else whole[:30 * 1024]
      open(sys.argv[1], "wb").write(gzip.compress(data))
      """
    let whole = e2e.data.url.appendingPathComponent("docs.tar.gz"), cut = e2e.data.url.appendingPathComponent("cut.tar.gz")
    try runProcess("python3", ["-c", build, whole.path, "whole"])
    try runProcess("python3", ["-c", build, cut.path, "cut"])
    let first = try e2e.gitRAG("upload", "archive", whole.path, "docs", "--embedder", "none")
    #expect(first.status == 0, "\(first.stderr)")
    let result = try e2e.gitRAG("upload", "archive", cut.path, "docs", "--embedder", "none")
    #expect(result.status == 3)
    #expect(
      result.stderr
        == "error: Cannot read archive \(cut.path): it ends without tar's end-of-archive marker, so it was cut short; nothing was changed. Check that the file is complete.\n"
    )
    let info = try e2e.gitRAG("collection", "info", "docs", "--json", "--embedder", "none")
    #expect(info.stdout.contains("\"files\" : 50"), "\(info.stdout)")
  }

  @Test func aSecondRoundIsReported() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n\nFirst.\n"])
    // What a sync started meanwhile (a hook) leaves for the running one.
    let rag = e2e.repo.url.appendingPathComponent(".git/rag")
    try FileManager.default.createDirectory(at: rag, withIntermediateDirectories: true)
    try Data("1\n".utf8).write(to: rag.appendingPathComponent("main.pending"))
    let result = try e2e.gitRAG("sync", "--collection", "main")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("Synced main to "), "\(result.stdout)")
    #expect(result.stdout.contains("  2 rounds: syncs asked for while it ran were done too"), "\(result.stdout)")
    try Data("1\n".utf8).write(to: rag.appendingPathComponent("main.pending"))
    let again = try e2e.gitRAG("sync", "--collection", "main")
    #expect(again.stdout == "main is up to date at \(e2e.repo.head.prefix(12)) (2 rounds: syncs asked for while it ran were done too).\n")
  }

  @Test func aLockHeldByALiveProcessIsNamedAndOneHeldByAReusedPidIsNot() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n"])
    try e2e.gitRAG("sync", "--collection", "main")
    let lock = e2e.repo.url.appendingPathComponent(".git/rag/main.lock")
    // A PID file naming a live process (ours) no longer blocks anything.
    try Data("\(getpid())\n".utf8).write(to: lock)
    try e2e.repo.commit(["b.md": "# B\n"])
    let synced = try e2e.gitRAG("sync", "--collection", "main")
    #expect(synced.stdout.hasPrefix("Synced main"), "\(synced.stdout) \(synced.stderr)")
    #expect(!(try e2e.gitRAG("status", "--collection", "main").stdout.contains("running:")))

    let holder = try SpawnedProcess(
      "python3",
      [
        "-c",
        "import fcntl, os, sys, time\nf = open(sys.argv[1], 'r+')\nfcntl.flock(f, fcntl.LOCK_EX)\nf.truncate(0); f.write(f'{os.getpid()}\\n2026-01-02T03:04:05Z\\n'); f.flush()\nprint('locked', flush=True)\ntime.sleep(120)",
        lock.path,
      ])
    defer { holder.signal(SIGKILL); _ = holder.wait() }
    var line = Data()
    while let byte = try holder.stdout.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) { line += byte }
    #expect(String(decoding: line, as: UTF8.self) == "locked")
    let status = try e2e.gitRAG("status", "--collection", "main")
    #expect(status.stdout.contains("running:     a sync (pid \(holder.pid), since 2026-01-02T03:04:05Z)"), "\(status.stdout)")
    let second = try e2e.gitRAG("sync", "--collection", "main")
    #expect(second.status == 0)
    #expect(second.stderr.contains("A sync of main is running (pid \(holder.pid)); it will go round once more when it finishes."))
  }

  @Test func statusChecksTheStoreAndReindexRepairsAGarbageFile() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n\nSome text.\n", "b.py": "def b():\n    return 2\n"])
    try e2e.gitRAG("sync", "--collection", "main")
    #expect(try e2e.gitRAG("status", "--collection", "main", "--check").status == 0)
    let file = e2e.repo.url.appendingPathComponent(".git/rag/main.sqlite")
    try Data(repeating: 0x41, count: 40_000).write(to: file)
    for arguments in [["status"], ["status", "--check"], ["sync"], ["search", "b"]] {
      let result = try e2e.run(arguments + ["--collection", "main"])
      #expect(result.status == 3, "\(arguments)")
      #expect(result.stderr.contains("is damaged or not a git-rag database"), "\(arguments): \(result.stderr)")
      #expect(result.stderr.contains("`git rag sync --reindex`") && result.stderr.contains("`git rag collection delete main`"))
    }
    let rebuilt = try e2e.gitRAG("sync", "--reindex", "--collection", "main")
    #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
    #expect(try e2e.gitRAG("status", "--collection", "main", "--check").status == 0)
    #expect(try e2e.gitRAG("search", "--collection", "main", "b").stdout.contains("b.py"))
  }

  @Test func aGlobalHooksPathIsWrittenOnlyWithGlobal() throws {
    let e2e = try EndToEnd()
    let shared = e2e.data.url.appendingPathComponent("global-hooks")
    _ = try runProcess("git", ["config", "--global", "core.hooksPath", shared.path], environment: e2e.environment)
    let refused = try e2e.gitRAG("hooks", "install")
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("core.hooksPath is set in your global git configuration (\(shared.path))"), "\(refused.stderr)")
    #expect(refused.stderr.contains("--global"))
    #expect(refused.stderr.contains("git config core.hooksPath"))
    #expect(!FileManager.default.fileExists(atPath: shared.path))

    let global = try e2e.gitRAG("hooks", "install", "--global")
    #expect(global.status == 0, "\(global.stderr)")
    #expect(FileManager.default.fileExists(atPath: shared.appendingPathComponent("post-commit").path))

    // The way to a repository of its own, as the message says.
    let own = e2e.repo.url.appendingPathComponent(".git/hooks")
    _ = try e2e.repo.git("config", "core.hooksPath", own.path)
    let local = try e2e.gitRAG("hooks", "install")
    #expect(local.status == 0, "\(local.stderr)")
    #expect(FileManager.default.fileExists(atPath: own.appendingPathComponent("post-commit").path))
  }

  @Test func manyUnquotedWordsParseQuickly() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["notes.md": "# Notes\n\nThe parser reads every word.\n"])
    try e2e.gitRAG("sync", "--collection", "main")
    let words = (0..<18_620).map { "word\($0)" }
    var environment = e2e.environment
    environment["GIT_RAG_TRACE"] = "1"
    let result = try GitRAGBinary.run(
      ["search", "--collection", "main", "-k", "3"] + words + ["parser"], in: e2e.repo.url, environment: environment)
    #expect(result.status == 0, "\(result.stderr)")
    // The parse alone (quadratic before: 11.6 s for these words in a release build).
    let mark = result.stderr.split(separator: "\n").first { $0.hasSuffix("arguments parsed") }
    let milliseconds = mark.flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? .infinity
    #expect(milliseconds < 2_000, "parsing 18,620 words took \(milliseconds) ms")
  }

  @Test func searchAnswersFromKeywordsWhenTheEmbedderIsDown() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit([
      "src/retry.py": "def configure_retries(count):\n    return count\n", "README.md": "# Tool\n", "b.md": "# B\n", "c.md": "# C\n",
    ])
    try e2e.gitRAG("sync", "--collection", "main")
    e2e.server.stop()
    let result = try e2e.gitRAG("search", "--collection", "main", "configure_retries")
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("src/retry.py"), "\(result.stdout)")
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("warning: keyword results only: the query could not be embedded ("), "\(result.stderr)")
    #expect(lines.first?.hasSuffix("Use --require-vectors to fail instead.") == true)
    let strict = try e2e.gitRAG("search", "--collection", "main", "--require-vectors", "configure_retries")
    #expect(strict.status != 0)
    #expect(strict.stdout.isEmpty)
    #expect(strict.stderr.hasPrefix("error: "), "\(strict.stderr)")
  }

  @Test func clonesEndAtTheirDeadlinesOnEveryTransport() throws {
    let e2e = try EndToEnd()
    let silent = try TestServer(script: "silent_server.py", arguments: ["--mode", "silent"])
    defer { silent.stop() }
    let host = "127.0.0.1:\(silent.port)"
    for url in ["http://\(host)/x.git", "https://\(host)/x.git", "ssh://git@\(host)/x.git"] {
      let start = Date()
      let result = try e2e.gitRAG("upload", "repo", url, "c", "--embedder", "none", environment: ["GIT_RAG_IDLE_TIMEOUT": "2"])
      let seconds = Date().timeIntervalSince(start)
      #expect(result.status == 3)
      #expect(
        result.stderr.hasSuffix(
          "error: \(host) stopped answering: nothing received for 2 s (idle deadline). Check the server, or raise GIT_RAG_IDLE_TIMEOUT.\n"),
        "\(url): \(result.stderr)")
      #expect(seconds < 15, "\(url) took \(seconds) s")
    }
    let full = try TestServer(script: "silent_server.py", arguments: ["--mode", "full"])
    defer { full.stop() }
    let result = try e2e.gitRAG(
      "upload", "repo", "https://127.0.0.1:\(full.port)/x.git", "c", "--embedder", "none", environment: ["GIT_RAG_CONNECT_TIMEOUT": "2"])
    #expect(result.status == 3)
    #expect(
      result.stderr
        == "error: Cannot connect to 127.0.0.1:\(full.port): no connection within 2 s (connect deadline). Check the URL, the port and your network, or raise GIT_RAG_CONNECT_TIMEOUT.\n"
    )
    let bad = try e2e.gitRAG(
      "upload", "repo", "https://127.0.0.1:\(full.port)/x.git", "c", "--embedder", "none", environment: ["GIT_RAG_IDLE_TIMEOUT": "soon"])
    #expect(bad.status == 2)
    #expect(bad.stderr == "error: GIT_RAG_IDLE_TIMEOUT 'soon' is not a positive number of seconds. Set it like GIT_RAG_IDLE_TIMEOUT=60.\n")
  }

  @Test func embeddingAndModelDownloadsEndAtTheirDeadlines() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.md": "# A\n\nText.\n"])
    let silent = try TestServer(script: "silent_server.py", arguments: ["--mode", "silent"])
    defer { silent.stop() }
    let start = Date()
    let sync = try e2e.gitRAG(
      "sync",
      environment: ["EMBEDDING_API_URL": "http://127.0.0.1:\(silent.port)/v1", "GIT_RAG_EMBED_TIMEOUT": "1", "GIT_RAG_EMBED_RETRIES": "0"])
    #expect(sync.status == 3)
    #expect(
      sync.stderr
        == "error: The embedding API at http://127.0.0.1:\(silent.port)/v1/embeddings did not answer within 1 s (1 attempt). Check that the server is healthy, or retry later.\n"
    )
    #expect(Date().timeIntervalSince(start) < 20)

    let pull = try e2e.gitRAG(
      "model", "pull", "sentence-transformers/all-MiniLM-L6-v2",
      environment: [
        "HF_ENDPOINT": "http://127.0.0.1:\(silent.port)", "GIT_RAG_IDLE_TIMEOUT": "2", "XDG_CACHE_HOME": e2e.data.path + "/pull-cache",
      ])
    #expect(pull.status == 3)
    #expect(Date().timeIntervalSince(start) < 30)
    #expect(pull.stderr.contains("127.0.0.1:\(silent.port)"), "\(pull.stderr)")
    #expect(pull.stderr.contains("nothing received for 2 s, the idle deadline; GIT_RAG_IDLE_TIMEOUT raises it"), "\(pull.stderr)")
    #expect(pull.stderr.split(separator: "\n").count == 1)

    let qdrantStart = Date()
    let qdrant = try e2e.gitRAG(
      "status", "--store", "qdrant", environment: ["QDRANT_URL": "http://127.0.0.1:\(silent.port)", "GIT_RAG_QDRANT_TIMEOUT": "1"])
    #expect(qdrant.status == 3)
    #expect(
      qdrant.stderr.contains("127.0.0.1:\(silent.port)")
        && qdrant.stderr.contains("did not answer within 1s. Check the server's load, or raise GIT_RAG_QDRANT_TIMEOUT."), "\(qdrant.stderr)"
    )
    #expect(qdrant.stderr.split(separator: "\n").count == 1)
    #expect(Date().timeIntervalSince(qdrantStart) < 30)
  }
}

extension EndToEnd {
  func run(_ arguments: [String]) throws -> ProcessResult {
    try GitRAGBinary.run(arguments, in: repo.url, environment: environment)
  }
}
