import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A served repository, the embedding test server, and clones ("sides") of it that each run the
/// built git-rag with their own cache, pushing and pulling refs/rag over ssh or smart HTTP.
final class IndexRefFixture: @unchecked Sendable {
  // @unchecked: set up once in init; each test drives it from one task.
  enum Transport: String, CaseIterable, Sendable { case ssh, http }

  static let token = "ref-token-\(UUID().uuidString)"
  let served: ServedRepository
  let embedding: TestServer
  let url: String
  let home: TemporaryDirectory
  private let ssh: SSHTestServer?
  private let http: TestServer?

  static func start(_ transport: Transport) async throws -> IndexRefFixture {
    let embedding = try await startCloneServer("embedding_server.py", ["--dimension", "8"])
    switch transport {
    case .ssh:
      let served = try ServedRepository(relativePath: "repo.git")
      let ssh = try await SSHTestServer.start()
      let home = try ssh.home(knownHosts: ssh.knownHostsLine, keys: ["id_ed25519": ssh.clientKey])
      return IndexRefFixture(served: served, embedding: embedding, url: ssh.url(served), home: home, ssh: ssh, http: nil)
    case .http:
      let served = try ServedRepository(relativePath: "private/repo.git")
      let http = try await startCloneServer(
        "git_http_server.py", ["--root", served.root.path], environment: ["GIT_HTTP_TEST_TOKEN": token])
      return IndexRefFixture(
        served: served, embedding: embedding, url: "\(http.baseURL)/private/repo.git",
        home: try TemporaryDirectory(prefix: "git-rag-ref-home"),
        ssh: nil, http: http)
    }
  }

  private init(
    served: ServedRepository, embedding: TestServer, url: String, home: TemporaryDirectory,
    ssh: SSHTestServer?, http: TestServer?
  ) {
    self.served = served
    self.embedding = embedding
    self.url = url
    self.home = home
    self.ssh = ssh
    self.http = http
  }

  deinit {
    embedding.stop()
    http?.stop()
  }

  /// A clone of the served repository whose `origin` is the served URL, with its own caches.
  func side(_ name: String, model: String = "test-model") throws -> Side {
    try Side(fixture: self, name: name, model: model)
  }

  /// Texts the embedding server has embedded so far.
  func textsEmbedded() throws -> Int {
    let data = try Data(contentsOf: URL(string: embedding.baseURL + "/stats")!)
    return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["texts_embedded"] as? Int ?? -1
  }

  /// `git ARGS` in the served bare repository.
  func servedGit(_ arguments: String...) throws -> String {
    try runProcess("git", ["--git-dir", served.barePath] + arguments, environment: served.work.environment).stdout
  }

  /// path → blob id of the served `refs/rag/<name>` tree.
  func servedRefTree(_ name: String = "shared") throws -> [String: String] {
    var tree: [String: String] = [:]
    for line in try servedGit("ls-tree", "-r", "refs/rag/\(name)").split(separator: "\n") {
      let fields = line.split(separator: "\t")
      tree[String(fields[1])] = String(fields[0].split(separator: " ")[2])
    }
    return tree
  }

  final class Side: @unchecked Sendable {
    // @unchecked: folders fixed at init; commands run synchronously.
    let folder: TemporaryDirectory
    let repo: URL
    let environment: [String: String]

    init(fixture: IndexRefFixture, name: String, model: String) throws {
      folder = try TemporaryDirectory(prefix: "git-rag-side-\(name)")
      repo = folder.url.appendingPathComponent(name)
      var env = TemporaryGitRepository.isolatedEnvironment(home: fixture.home.path)
      env["XDG_CACHE_HOME"] = folder.path + "/cache"
      env["XDG_DATA_HOME"] = folder.path + "/data"
      env["GIT_RAG_EMBEDDER"] = "openai"
      env["EMBEDDING_API_URL"] = fixture.embedding.baseURL + "/v1"
      env["MODEL_NAME"] = model
      env["GIT_RAG_COLLECTION"] = "shared"
      env["GIT_RAG_TOKEN"] = IndexRefFixture.token
      env["NO_COLOR"] = "1"
      environment = env
      // A plain clone (and fetch) of the served repository: it must not bring refs/rag.
      try runProcess("git", ["clone", "-q", fixture.served.barePath, repo.path], environment: env)
      try git("fetch", "-q", "origin")
      try git("remote", "set-url", "origin", fixture.url)
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
      try runProcess("git", arguments, in: repo, environment: environment).stdout
    }

    func commit(_ files: [String: String], message: String = "change") throws {
      for (path, text) in files {
        let url = repo.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
      }
      try git("add", "-A")
      try git("commit", "-q", "-m", message)
    }

    func run(_ arguments: String...) throws -> ProcessResult {
      try GitRAGBinary.run(arguments, in: repo, environment: environment)
    }

    /// `git-rag ARGS --json`, decoded; a failure is thrown with its stderr.
    @discardableResult
    func json(_ arguments: String...) throws -> [String: Any] {
      let result = try GitRAGBinary.run(arguments + ["--json"], in: repo, environment: environment)
      guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw TestServerError(message: "git-rag \(arguments) failed (\(result.status)): \(result.stderr)")
      }
      return object
    }

    /// The top files of a search.
    func topFiles(_ query: String) throws -> [String] {
      ((try json("search", query, "--files"))["results"] as? [[String: Any]] ?? []).compactMap { $0["file_path"] as? String }
    }

    var cacheCount: Int {
      get throws { try EmbeddingCache(url: folder.url.appendingPathComponent("cache/git-rag/embeddings.sqlite")).count() }
    }

    var localRagRefs: String { (try? git("for-each-ref", "refs/rag", "refs/rag-incoming")) ?? "?" }
  }
}

@Suite(.serialized) struct IndexRefTests {
  @Test(arguments: IndexRefFixture.Transport.allCases)
  func aSecondCloneAnswersWithoutEmbedding(_ transport: IndexRefFixture.Transport) async throws {
    let fixture = try await IndexRefFixture.start(transport)
    let ci = try fixture.side("ci")
    #expect(try ci.json("sync")["mode"] as? String == "full")
    let pushed = try ci.json("push")
    #expect(pushed["files"] as? Int == 4)  // three files and the Python summary
    #expect(try ci.json("push")["up_to_date"] as? Bool == true)

    // A plain clone and fetch bring no refs/rag.
    let fresh = try fixture.side("fresh")
    #expect(fresh.localRagRefs.isEmpty)

    let before = try fixture.textsEmbedded()
    let pulled = try fresh.json("pull")
    #expect(pulled["vectors_imported"] as? Int == pushed["chunks"] as? Int)
    let synced = try fresh.json("sync")
    #expect(synced["chunks_embedded"] as? Int == 0)
    #expect(synced["chunks_reused"] as? Int == pushed["chunks"] as? Int)
    #expect(try fixture.textsEmbedded() == before)
    let query = "where does the value come from"
    let answer = try fresh.topFiles(query)
    #expect(!answer.isEmpty)
    #expect(answer == (try ci.topFiles(query)))

    // A one-file commit: the push adds only that file's pack (and a new manifest).
    let old = try fixture.servedRefTree()
    try ci.commit(["README.md": "# Served\n\nNow it also explains the retry budget.\n"])
    try ci.json("sync")
    let incremental = try ci.json("push")
    let new = try fixture.servedRefTree()
    let added = Set(new.values).subtracting(old.values)
    let readme = try ci.git("rev-parse", "HEAD:README.md").trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(added == [new["manifest.json"]!, new["\(readme.prefix(2))/\(readme.dropFirst(2))"]!])
    #expect(new.count == old.count)
    // The commit, the root tree, at most two fan-out trees, the pack and the manifest.
    let objects = incremental["objects_sent"] as? Int ?? 0
    #expect((4...6).contains(objects), "sent \(objects) objects")
  }

  @Test func syncPullAndTheRagPullSettingPullFirst() async throws {
    let fixture = try await IndexRefFixture.start(.http)
    // Nothing published yet: `sync --pull` says so and syncs.
    let early = try fixture.side("early")
    let first = try early.run("sync", "--pull")
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stderr.contains("Not pulled") && first.stderr.contains("has no refs/rag/shared"), "\(first.stderr)")
    try early.json("push")
    let before = try fixture.textsEmbedded()

    let flag = try fixture.side("flag")
    #expect(try flag.json("sync", "--pull")["chunks_embedded"] as? Int == 0)
    // A second pull of the same ref imports nothing again.
    #expect(try flag.json("pull")["up_to_date"] as? Bool == true)
    #expect(try fixture.textsEmbedded() == before)

    let hooked = try fixture.side("hooked")
    try hooked.git("config", "rag.pull", "true")
    let fromHook = try hooked.run("sync", "--from-hook", "--quiet")
    #expect(fromHook.status == 0, "\(fromHook.stderr)")
    #expect(try fixture.textsEmbedded() == before)
    #expect(try hooked.json("status")["chunks"] as? Int == (try early.json("status"))["chunks"] as? Int)
  }

  @Test func aFingerprintMismatchIsRefused() async throws {
    let fixture = try await IndexRefFixture.start(.http)
    let ci = try fixture.side("ci")
    try ci.json("sync")
    try ci.json("push")
    let other = try fixture.side("other", model: "another-model")
    let result = try other.run("pull")
    #expect(result.status == 3)
    #expect(result.stderr.contains("embedder openai:test-model:8") && result.stderr.contains("openai:another-model:8"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").filter { !$0.hasPrefix("Warning:") }.count == 1, "\(result.stderr)")
    #expect(try other.cacheCount == 0)
    #expect(other.localRagRefs.isEmpty)
  }

  @Test func corruptAndHostileRefsAreRefusedAndNothingIsImported() async throws {
    let fixture = try await IndexRefFixture.start(.http)
    let reader = try fixture.side("reader")
    let served = try Repository(path: URL(fileURLWithPath: fixture.served.barePath))
    let blob = String(repeating: "ab", count: 20)
    let pack = VectorPack(
      dimension: 8,
      chunks: [
        (hash: String(repeating: "1", count: 64), vector: (0..<8).map { Float($0) / 10 }),
        (hash: String(repeating: "2", count: 64), vector: (0..<8).map { -Float($0) / 10 }),
      ]
    ).encoded()
    func manifest(dimension: Int = 8, files: Int = 1, chunks: Int = 2, format: Int = 1) throws -> Data {
      var manifest = IndexRefManifest(
        embedder: "openai:test-model:8", dimension: dimension, commit: String(repeating: "0", count: 40), chunker: "c", filter: "f",
        files: files, chunks: chunks)
      manifest.format = format
      return try manifest.encoded()
    }
    func publish(_ name: String, _ files: [String: Data]) throws {
      let tree = try served.writeTree(files.mapValues { try served.writeBlob($0) })
      try served.setReference("refs/rag/\(name)", to: try served.writeCommit(tree: tree, parents: [], message: name), message: "test")
    }
    let packPath = "\(blob.prefix(2))/\(blob.dropFirst(2))"
    var wrongDimension = Data(pack)
    wrongDimension[8] = 4  // dimension 4 in the pack, 8 in the manifest; 16 + 2·(32 + 8) bytes fit neither
    let cases: [(String, [String: Data], String)] = [
      ("good", ["manifest.json": try manifest(), packPath: pack], ""),
      ("wrong-dimension", ["manifest.json": try manifest(), packPath: wrongDimension], "dimension 4"),
      ("truncated", ["manifest.json": try manifest(), packPath: pack.dropLast(3)], "do not hold"),
      ("chunk-count", ["manifest.json": try manifest(chunks: 5), packPath: pack], "lists 5 chunks"),
      ("file-count", ["manifest.json": try manifest(files: 3), packPath: pack], "lists 3 files"),
      ("not-json", ["manifest.json": Data("{not json".utf8), packPath: pack], "manifest.json cannot be read"),
      ("huge-manifest", ["manifest.json": Data(repeating: 0x20, count: IndexRef.maxManifestBytes + 1), packPath: pack], "bytes"),
      ("no-manifest", [packPath: pack], "no manifest.json"),
      ("stray-entry", ["manifest.json": try manifest(), packPath: pack, "README.md": pack], "unexpected entry"),
      ("format-2", ["manifest.json": try manifest(format: 2), packPath: pack], "format 2"),
      ("bad-magic", ["manifest.json": try manifest(), packPath: Data("GRVX".utf8) + pack.dropFirst(4)], "bad magic"),
      ("infinite", ["manifest.json": try manifest(), packPath: pack.prefix(pack.count - 2) + Data([0x00, 0x7C])], "not a finite number"),
    ]
    for (name, files, _) in cases { try publish(name, files) }
    for (name, _, reason) in cases where name != "good" {
      let result = try reader.run("pull", "--name", name)
      #expect(result.status == 3, "\(name) was accepted")
      #expect(result.stderr.contains(reason), "\(name): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").filter { !$0.hasPrefix("Warning:") }.count == 1, "\(name): \(result.stderr)")
      #expect(try reader.cacheCount == 0, "\(name) imported vectors")
      #expect(reader.localRagRefs.isEmpty, "\(name): \(reader.localRagRefs)")
    }
    // The well-formed one goes through, which shows the others failed for their defect alone.
    let good = try reader.json("pull", "--name", "good")
    #expect(good["vectors_imported"] as? Int == 2)
    #expect(try reader.cacheCount == 2)
  }

  @Test func aPushThatLosesARaceIsMergedAndRetried() async throws {
    let fixture = try await IndexRefFixture.start(.http)
    let first = try fixture.side("first")
    try first.json("sync")
    try first.json("push")
    // A second writer on another branch, which has not pulled.
    let second = try fixture.side("second")
    try second.git("checkout", "-q", "-b", "feature")
    try second.commit(["docs/feature.md": "# Feature\n\nA feature branch of its own.\n"])
    try second.json("sync")
    // A third snapshot, pushed under another name, that a hook will slip in just before the
    // second writer's push lands: the remote then refuses it (the ref moved), as in a real race.
    try first.commit(["docs/later.md": "# Later\n\nWritten while the other push was on its way.\n"])
    try first.json("sync")
    try first.json("push", "--name", "staging")
    let hook = URL(fileURLWithPath: fixture.served.barePath).appendingPathComponent("hooks/pre-receive")
    try """
    #!/bin/sh
    # Once: move refs/rag/shared under the pusher's feet (outside the quarantine, as another push would).
    [ -e raced ] && exit 0
    touch raced
    env -u GIT_QUARANTINE_PATH git update-ref refs/rag/shared "$(git rev-parse refs/rag/staging)"
    """.write(to: hook, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)

    let pushed = try second.json("push")
    #expect(pushed["attempts"] as? Int == 2)
    #expect(FileManager.default.fileExists(atPath: fixture.served.barePath + "/raced"))
    let tree = try fixture.servedRefTree()
    func packPath(_ side: IndexRefFixture.Side, _ path: String) throws -> String {
      let id = try side.git("rev-parse", "HEAD:\(path)").trimmingCharacters(in: .whitespacesAndNewlines)
      return "\(id.prefix(2))/\(id.dropFirst(2))"
    }
    // The union: the feature branch's file, the file slipped in by the race, and the shared ones.
    #expect(tree[try packPath(second, "docs/feature.md")] != nil)
    #expect(tree[try packPath(first, "docs/later.md")] != nil)
    #expect(tree[try packPath(first, "README.md")] != nil)
    let manifest = try JSONDecoder().decode(
      IndexRefManifest.self, from: Data(try fixture.servedGit("show", "refs/rag/shared:manifest.json").utf8))
    // The second writer superseded the first snapshot (its commit is in the feature branch's
    // history) and was merged with the one slipped in, whose commit it does not have.
    let heads = [try second.git("rev-parse", "HEAD"), try first.git("rev-parse", "HEAD")].map {
      $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    #expect(Set(manifest.commits) == Set(heads), "\(manifest.commits)")
    #expect(manifest.files == tree.count - 1)

    // A third clone pulls the merged ref and embeds nothing on either branch's files.
    let third = try fixture.side("third")
    try third.git("fetch", "-q", fixture.served.barePath)  // (refs/heads only)
    #expect(third.localRagRefs.isEmpty)
    try third.json("pull")
    let before = try fixture.textsEmbedded()
    #expect(try third.json("sync")["chunks_embedded"] as? Int == 0)
    #expect(try fixture.textsEmbedded() == before)

    // One writer (CI) replaces what it has not seen: the ref then holds its snapshot alone.
    let mergedTip = try fixture.servedGit("rev-parse", "refs/rag/shared")
    let replaced = try first.json("push", "--replace")
    #expect(replaced["attempts"] as? Int == 1)
    let after = try fixture.servedRefTree()
    #expect(after[try packPath(second, "docs/feature.md")] == nil)
    #expect(after[try packPath(first, "docs/later.md")] != nil)
    // A fast-forward over the merged ref: its history stays.
    #expect(try fixture.servedGit("rev-parse", "refs/rag/shared^") == mergedTip)
  }
}
