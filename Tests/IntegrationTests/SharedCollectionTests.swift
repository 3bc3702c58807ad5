import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// Several clones of one repository, at different commits, syncing one Qdrant collection at the
/// same time (the built binary), some of them killed part-way: the collection never claims a
/// commit whose contents it does not hold, and the next sync converges to a fresh full index.
@Suite(.serialized) struct SharedCollectionTests {
  /// An origin repository with tagged commits, clones of it, the embedding and Qdrant test servers.
  final class Team: @unchecked Sendable {
    // @unchecked: set up in init, then used by one test at a time.
    let origin: TemporaryGitRepository
    let folder: TemporaryDirectory
    let embeddings: TestServer
    let qdrant: QdrantFixture
    var tags: [String] = []

    /// `embeddingLatency`: the embedding server's least time per request. Syncs then spend that
    /// long between their first Qdrant requests and their writes, whatever the machine's speed,
    /// so a watcher polling the request count catches them part-way.
    init(seed: UInt64, commits: Int, embeddingLatency milliseconds: Int = 0) async throws {
      origin = try TemporaryGitRepository()
      folder = try TemporaryDirectory(prefix: "git-rag-team")
      embeddings = try await offCooperativePool {
        try TestServer(script: "embedding_server.py", arguments: ["--dimension", "8", "--latency-ms", String(milliseconds)])
      }
      qdrant = try await QdrantFixture.start(ownServer: true)
      var random = SeededRandom(seed: seed)
      var history = HistoryBuilder(repo: origin)
      try history.seed(&random)
      // Enough files that syncs overlap and take several write requests each.
      var files: [String: String] = [:]
      for index in 0..<40 {
        files["pkg/module\(index).py"] = (0..<6).map { "def f\(index)_\($0)(x):\n    return x * \($0 + index) + \(random.next() % 1000)\n" }
          .joined(separator: "\n")
      }
      try origin.commit(files, message: "modules")
      for index in 0..<commits {
        for _ in 0..<3 { _ = try history.randomStep(&random) }
        try origin.git("tag", "c\(index)", "HEAD")
        tags.append("c\(index)")
      }
    }

    var environment: [String: String] {
      var env = origin.environment
      env["XDG_CACHE_HOME"] = folder.path + "/cache"
      env["XDG_DATA_HOME"] = folder.path + "/data"
      env["GIT_RAG_NO_CACHE"] = "1"
      env["GIT_RAG_EMBEDDER"] = "openai"
      env["EMBEDDING_API_URL"] = embeddings.baseURL + "/v1"
      env["MODEL_NAME"] = "test-model"
      env["GIT_RAG_STORE"] = "qdrant"
      env["QDRANT_URL"] = qdrant.url.absoluteString
      env["NO_COLOR"] = "1"
      return env
    }

    func clone(_ name: String) throws -> URL {
      let url = folder.url.appendingPathComponent(name)
      try runProcess("git", ["clone", "-q", "file://\(origin.path)", url.path], environment: environment)
      return url
    }

    func checkout(_ clone: URL, _ tag: String) throws {
      try runProcess("git", ["checkout", "-q", "--detach", tag], in: clone, environment: environment)
    }

    func commit(of tag: String) throws -> String {
      try origin.git("rev-parse", "\(tag)^{commit}")
    }

    func store() throws -> QdrantStore { try qdrant.store() }

    /// A fresh full index of `tag` in its own collection, built by the binary from a new clone.
    func freshIndex(of tag: String) throws -> String {
      let collection = "fresh-\(tag)-\(UUID().uuidString.prefix(6).lowercased())"
      let clone = try clone(collection)
      try checkout(clone, tag)
      let result = try GitRAGBinary.run(["sync", "--quiet", "--collection", collection], in: clone, environment: environment)
      guard result.status == 0 else { throw TestServerError(message: "fresh index of \(tag) failed: \(result.stderr)") }
      return collection
    }

    /// Fails the test unless `collection` holds exactly the chunks of `fresh`.
    func expectSameChunks(_ collection: String, _ fresh: String, _ context: String) async throws {
      let store = try store()
      let got = try await StoreSnapshot.rows(store, collection)
      let want = try await StoreSnapshot.rows(store, fresh)
      if got != want {
        let missing = want.subtracting(got).map(\.description).sorted().prefix(5)
        let extra = got.subtracting(want).map(\.description).sorted().prefix(5)
        Issue.record(
          "\(context): \(want.subtracting(got).count) chunks missing \(Array(missing)), \(got.subtracting(want).count) extra \(Array(extra))"
        )
      }
    }
  }

  /// One `git-rag sync` child: its output is drained on another thread, its exit collected there.
  final class Sync: @unchecked Sendable {
    // @unchecked: `result` is written once by the reaping thread before `done` is signalled.
    let process: SpawnedProcess
    let done = DispatchSemaphore(value: 0)
    var result: ProcessResult?
    var killed = false

    init(in clone: URL, collection: String, environment: [String: String], quiet: Bool = true) throws {
      process = try SpawnedProcess(
        GitRAGBinary.url.path, ["sync", "--collection", collection] + (quiet ? ["--quiet"] : []), in: clone, environment: environment)
      let process = self.process
      DispatchQueue.global().async {
        let errors = Locked<Data>(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
          errors.withLock { $0 = process.stderr.readDataToEndOfFile() }
          group.leave()
        }
        let output = process.stdout.readDataToEndOfFile()
        group.wait()
        let status = process.wait()
        self.result = ProcessResult(
          status: status, stdout: String(decoding: output, as: UTF8.self), stderr: String(decoding: errors.withLock { $0 }, as: UTF8.self))
        self.done.signal()
      }
    }

    var finished: Bool {
      guard done.wait(timeout: .now()) == .success else { return false }
      done.signal()
      return true
    }
  }

  @Test func concurrentSyncsWithRandomKillsNeverClaimWhatTheyDoNotHoldAndConverge() async throws {
    let seed = UInt64(ProcessInfo.processInfo.environment["GIT_RAG_PROPERTY_SEED"] ?? "") ?? 1414
    var random = SeededRandom(seed: seed)
    let team = try await Team(seed: seed, commits: 6, embeddingLatency: 150)
    let clones = try (0..<4).map { try team.clone("clone\($0)") }
    let collection = "shared"
    var killedTotal = 0

    for round in 0..<4 {
      for clone in clones { try team.checkout(clone, team.tags.randomElement(using: &random)!) }
      let before = try await team.qdrant.stats().values.reduce(0, +)
      let syncs = try clones.map { try Sync(in: $0, collection: collection, environment: team.environment) }
      // Each sync is killed (or not) once the server has answered a random number of requests more.
      // At least one per round; a sync takes some 15 to 60 requests (5 when up to date), so early
      // thresholds fall inside one.
      var killAt = syncs.map { _ in Bool.random(using: &random) ? before + Int.random(in: 2...12, using: &random) : Int.max }
      if !killAt.contains(where: { $0 != Int.max }) {
        killAt[Int.random(in: 0..<syncs.count, using: &random)] = before + Int.random(in: 2...12, using: &random)
      }
      while !syncs.allSatisfy(\.finished) {
        let seen = try await team.qdrant.stats().values.reduce(0, +)
        for (index, sync) in syncs.enumerated() where killAt[index] <= seen && !sync.finished {
          sync.process.signal(SIGKILL)
          sync.killed = true
          killAt[index] = Int.max
        }
        try await Task.sleep(for: .milliseconds(15))
      }
      for sync in syncs {
        let result = try #require(sync.result)
        if result.status == 128 + SIGKILL {
          killedTotal += 1
          continue
        }
        #expect(result.status == 0, "round \(round): \(result.stderr)")
      }
      // Safety: whatever was killed, a collection with no unfinished sync holds exactly its commit.
      let metadata = try #require(try await team.store().metadata(collection))
      if metadata.pendingTargets.isEmpty, let claimed = metadata.lastIndexedCommit,
        let tag = try team.tags.first(where: { try team.commit(of: $0) == claimed })
      {
        try await team.expectSameChunks(collection, try team.freshIndex(of: tag), "round \(round) claims \(tag)")
      }
    }
    #expect(killedTotal > 0, "no sync was killed: the test proved nothing about interrupted writers")

    // After all writers ended: the next sync converges to a fresh full index of its HEAD.
    let last = team.tags.last!
    try team.checkout(clones[0], last)
    let final = try GitRAGBinary.run(["sync", "--quiet", "--collection", collection], in: clones[0], environment: team.environment)
    #expect(final.status == 0, "\(final.stderr)")
    let metadata = try #require(try await team.store().metadata(collection))
    #expect(metadata.lastIndexedCommit == (try team.commit(of: last)))
    #expect(metadata.pendingTargets.isEmpty)
    try await team.expectSameChunks(collection, try team.freshIndex(of: last), "after the final sync")
  }

  @Test func aSyncThatFindsTheCollectionMovedPlansAgain() async throws {
    let team = try await Team(seed: 7, commits: 2)
    let mine = try team.clone("mine")
    let theirs = try team.clone("theirs")
    try team.checkout(mine, "c0")
    try team.checkout(theirs, "c1")
    let collection = "moved"
    let embedder = OpenAIEmbedder(
      configuration: OpenAIEmbedderConfiguration(
        baseURL: URL(string: "\(team.embeddings.baseURL)/v1")!, model: "test-model", maxTextsPerRequest: 64,
        maxConcurrentRequests: 2, timeout: 10, maxRetries: 3, initialBackoff: 0.01))
    let first = SyncEngine(store: try team.store(), embedder: embedder, cache: nil, options: SyncOptions(collection: collection))
    _ = try await first.sync(repository: try Repository(path: mine))

    // This sync (c0 to c1) has a short lease; just before it claims c1, another machine (the
    // binary, in another clone) waits the lease out, takes it over, repairs what this one wrote
    // back to c0 and claims c0 again. Claiming c1 now would be a lie: this sync must plan again.
    try team.checkout(mine, "c1")
    var engine = first
    engine.options.leaseSeconds = 1
    let environment = team.environment
    let events = Locked<[String]>([])
    engine.onEvent = { event in if case let .replanning(reason) = event { events.withLock { $0.append(reason) } } }
    let other = Locked<ProcessResult?>(nil)
    engine.faultInjection = { stage in
      guard stage == "metadata", other.withLock({ $0 }) == nil else { return }
      let result = try GitRAGBinary.run(["sync", "--quiet", "--collection", collection], in: theirs, environment: environment)
      other.withLock { $0 = result }
    }
    let report = try await engine.sync(repository: try Repository(path: mine))
    let otherResult = other.withLock { $0 }
    #expect(otherResult?.status == 0, "\(otherResult?.stderr ?? "")")
    #expect(report.rounds == 2)
    #expect(events.withLock { $0.count } == 1)
    let metadata = try #require(try await team.store().metadata(collection))
    #expect(metadata.lastIndexedCommit == (try team.commit(of: "c1")))
    #expect(metadata.pendingTargets.isEmpty)
    try await team.expectSameChunks(collection, try team.freshIndex(of: "c1"), "after the re-planned sync")
  }

  @Test func aLiveLeaseMakesOthersWaitAndIsShownByStatus() async throws {
    let team = try await Team(seed: 9, commits: 1)
    let clone = try team.clone("waiting")
    let collection = "leased"
    let first = try GitRAGBinary.run(["sync", "--quiet", "--collection", collection], in: clone, environment: team.environment)
    #expect(first.status == 0, "\(first.stderr)")
    let store = try team.store()
    // A live holder: this test process, for a minute.
    let held = SyncLease(
      id: "holder", host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier,
      target: try team.commit(of: "c0"), expiresAt: SyncLease.now() + 60)
    #expect(try await store.tryLease(collection, held, replacing: nil)?.id == "holder")
    // A second lease is refused while the first is live.
    var rival = held
    rival.id = "rival"
    #expect(try await store.tryLease(collection, rival, replacing: nil)?.id == "holder")

    let status = try GitRAGBinary.run(["status", "--collection", collection], in: clone, environment: team.environment)
    #expect(status.stdout.contains("lease:       \(held.owner), syncing towards \(held.target.prefix(12))"), "\(status.stdout)")

    _ = try team.folder.write("waiting/pkg/extra.py", "def extra():\n    return 1\n")
    try runProcess("git", ["add", "pkg/extra.py"], in: clone, environment: team.environment)
    try runProcess("git", ["commit", "-qm", "extra"], in: clone, environment: team.environment)
    try await team.qdrant.resetStats()
    let waiting = try Sync(in: clone, collection: collection, environment: team.environment, quiet: false)
    defer { if !waiting.finished { waiting.process.signal(SIGKILL) } }
    // Each attempt at the lease is one conditional upsert: two mean it found the lease taken.
    while (try await team.qdrant.stats()["PUT /collections/{c}/points"] ?? 0) < 2 && !waiting.finished {
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect(!waiting.finished, "the sync did not wait for the live lease")
    try await store.releaseLease(collection, id: "holder")
    while !waiting.finished { try await Task.sleep(for: .milliseconds(20)) }
    #expect(waiting.result?.status == 0, "\(waiting.result?.stderr ?? "")")
    #expect(
      waiting.result?.stderr.contains("Waiting for the sync of \(collection) by \(held.owner)") == true, "\(waiting.result?.stderr ?? "")")
    #expect(try await store.lease(collection) == nil)
  }
}

/// Which collection a command uses by default, and which repository may use it (the binary).
@Suite struct CollectionOwnershipEndToEndTests {
  func repository(_ team: SharedCollectionTests.Team, _ path: String, _ files: [String: String]) throws -> URL {
    let url = team.folder.url.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    try runProcess("git", ["init", "-q", "-b", "main"], in: url, environment: team.environment)
    for (name, text) in files { _ = try team.folder.write("\(path)/\(name)", text) }
    try runProcess("git", ["add", "-A"], in: url, environment: team.environment)
    try runProcess("git", ["commit", "-qm", "first"], in: url, environment: team.environment)
    return url
  }

  @Test func anotherRepositoryWithTheSameFolderNameIsRefusedAndNothingIsWritten() async throws {
    let team = try await SharedCollectionTests.Team(seed: 3, commits: 0)
    let one = try repository(team, "one/app", ["alpha.py": "def alpha():\n    return 'one'\n"])
    let two = try repository(team, "two/app", ["beta.py": "def beta():\n    return 'two'\n"])
    let env = team.environment
    #expect(try GitRAGBinary.run(["sync", "--quiet"], in: one, environment: env).status == 0)
    let store = try team.store()
    let before = try await store.metadata("app")
    let rows = try await StoreSnapshot.rows(store, "app")
    #expect(rows.contains { $0.description.hasPrefix("alpha.py") })

    for command in [["sync"], ["sync", "--reindex"], ["search", "beta"], ["upload", "repo", two.path, "app"]] {
      let refused = try GitRAGBinary.run(command, in: two, environment: env)
      #expect(refused.status != 0, "\(command)")
      let message = refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(!message.contains("\n"), "one line: \(message)")
      #expect(message.contains("Collection app in qdrant:") && message.contains("indexes another repository (\(one.path)"), "\(message)")
      #expect(message.contains("not this one (\(two.path)") && message.contains("--collection app-"), "\(message)")
    }
    #expect(try await store.metadata("app") == before)
    #expect(try await StoreSnapshot.rows(store, "app") == rows)

    // The way out: a collection of its own. Searching another repository's collection by name is allowed.
    #expect(try GitRAGBinary.run(["sync", "--quiet", "--collection", "app-two"], in: two, environment: env).status == 0)
    let named = try GitRAGBinary.run(["search", "--collection", "app", "alpha"], in: two, environment: env)
    #expect(named.status == 0 && named.stdout.contains("alpha.py"), "\(named.stderr)")
  }

  @Test func linkedWorktreesShareTheirRepositorysIndexAndBareRepositoriesAreNamedAfterThemselves() async throws {
    let team = try await SharedCollectionTests.Team(seed: 4, commits: 0)
    var env = team.environment
    env["GIT_RAG_STORE"] = nil
    let main = try repository(team, "src/app", ["a.py": "def a():\n    return 1\n", "b.md": "# B\n\nText.\n"])
    let first = try GitRAGBinary.run(["sync", "--json"], in: main, environment: env)
    #expect(first.stdout.contains("\"collection\" : \"app\""), "\(first.stdout)\(first.stderr)")

    let worktree = team.folder.url.appendingPathComponent("feature-x")
    try runProcess("git", ["worktree", "add", "-q", "-b", "feature", worktree.path], in: main, environment: env)
    let reused = try GitRAGBinary.run(["sync", "--json"], in: worktree, environment: env)
    #expect(reused.status == 0, "\(reused.stderr)")
    #expect(reused.stdout.contains("\"collection\" : \"app\"") && reused.stdout.contains("\"mode\" : \"up-to-date\""), "\(reused.stdout)")
    #expect(reused.stdout.contains("\"chunks_embedded\" : 0"), "\(reused.stdout)")

    let bare = team.folder.url.appendingPathComponent("srv/alpha.git")
    try runProcess("git", ["clone", "-q", "--bare", main.path, bare.path], environment: env)
    let status = try GitRAGBinary.run(["status", "--json"], in: bare, environment: env)
    #expect(status.stdout.contains("\"collection\" : \"alpha\""), "\(status.stdout)\(status.stderr)")
  }
}
