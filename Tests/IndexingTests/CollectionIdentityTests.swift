import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

/// A collection belongs to one repository (its root commits): clones and linked worktrees share
/// it, other repositories are refused without a write; default names come from the repository.
@Suite struct CollectionIdentityTests {
  static func repository(_ files: [String: String], in parent: TemporaryDirectory, named name: String) throws -> URL {
    let url = parent.url.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    let env = TemporaryGitRepository.isolatedEnvironment(home: parent.path)
    try runProcess("git", ["init", "-q", "-b", "main"], in: url, environment: env)
    for (path, text) in files { _ = try parent.write("\(name)/\(path)", text) }
    try runProcess("git", ["add", "-A"], in: url, environment: env)
    try runProcess("git", ["commit", "-q", "-m", "first"], in: url, environment: env)
    return url
  }

  @Test func anotherRepositoryIsRefusedAndNothingIsWritten() async throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-identity")
    let alpha = try Self.repository(["a.py": "def alpha():\n    return 1\n"], in: folder, named: "one/app")
    let beta = try Self.repository(["b.py": "def beta():\n    return 2\n"], in: folder, named: "two/app")
    let store = SQLiteStore(directory: folder.url.appendingPathComponent("store"))
    let engine = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: nil, collection: "app")

    _ = try await engine.sync(repository: try Repository(path: alpha))
    let before = try #require(try await store.metadata("app"))
    let alphaRoot = try Repository(path: alpha).head().hex
    #expect(before.rootCommits == [alphaRoot])
    let rows = try await StoreSnapshot.rows(store, "app")

    await expectUserError(["indexes another repository", "--collection app-"]) {
      _ = try await engine.sync(repository: try Repository(path: beta))
    }
    var reindex = engine
    reindex.options.reindex = true
    await expectUserError(["indexes another repository"]) {
      _ = try await reindex.sync(repository: try Repository(path: beta))
    }
    await expectUserError(["indexes another repository"]) {
      _ = try await engine.sync(source: try DirectorySource(root: beta))
    }
    #expect(try await store.metadata("app") == before)
    #expect(try await StoreSnapshot.rows(store, "app") == rows)

    // A clone of the first repository is the same repository.
    let env = TemporaryGitRepository.isolatedEnvironment(home: folder.path)
    let clone = folder.url.appendingPathComponent("clone")
    try runProcess("git", ["clone", "-q", alpha.path, clone.path], environment: env)
    let report = try await engine.sync(repository: try Repository(path: clone))
    #expect(report.mode == .upToDate)
  }

  @Test func aCollectionWithoutRootsIsAdoptedOnlyByItsRepository() async throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-identity")
    let alpha = try Self.repository(["a.md": "# Alpha\n\nText.\n"], in: folder, named: "alpha")
    let beta = try Self.repository(["b.md": "# Beta\n\nText.\n"], in: folder, named: "beta")
    let store = SQLiteStore(directory: folder.url.appendingPathComponent("store"))
    let engine = SyncEngine.forTests(store: store, embedder: NoEmbedder(), cache: nil, collection: "docs")
    _ = try await engine.sync(repository: try Repository(path: alpha))
    // As written before collections recorded their repository.
    var legacy = try #require(try await store.metadata("docs"))
    legacy.rootCommits = []
    try await store.setMetadata("docs", legacy)

    await expectUserError(["indexes another repository", alpha.path]) {
      _ = try await engine.sync(repository: try Repository(path: beta))
    }
    try FileManager.default.removeItem(at: alpha.appendingPathComponent("a.md"))
    let env = TemporaryGitRepository.isolatedEnvironment(home: folder.path)
    try runProcess("git", ["commit", "-qam", "second"], in: alpha, environment: env)
    _ = try await engine.sync(repository: try Repository(path: alpha))
    let root = try runProcess("git", ["rev-list", "--max-parents=0", "HEAD"], in: alpha, environment: env).stdout
    #expect(try await store.metadata("docs")?.rootCommits == [root.trimmingCharacters(in: .whitespacesAndNewlines)])
  }

  @Test func syncsKilledTowardsSeveralCommitsAreAllRepaired() async throws {
    let server = try await EmbeddingServer.start()
    let folder = try TemporaryDirectory(prefix: "git-rag-pending")
    let store = SQLiteStore(directory: folder.url)
    let repo = try TemporaryGitRepository()
    var random = SeededRandom(seed: 14)
    var history = HistoryBuilder(repo: repo)
    try history.seed(&random)
    let engine = SyncEngine.forTests(store: store, embedder: server.embedder(), cache: nil, collection: "inc")
    _ = try await engine.sync(repository: try Repository(path: repo.url))

    // Two syncs die part-way, towards two different commits; each leaves its own pending target.
    for stage in ["delete", "metadata"] {
      for _ in 0..<3 { _ = try history.randomStep(&random) }
      var failing = engine
      failing.faultInjection = { if $0 == stage { throw InjectedFault(stage: $0) } }
      await #expect(throws: InjectedFault.self) { _ = try await failing.sync(repository: try Repository(path: repo.url)) }
    }
    #expect(try await store.metadata("inc")?.pendingTargets.count == 2)
    _ = try history.randomStep(&random)
    _ = try await engine.sync(repository: try Repository(path: repo.url))
    let metadata = try #require(try await store.metadata("inc"))
    #expect(metadata.pendingTargets.isEmpty)
    #expect(metadata.lastIndexedCommit == repo.head)

    let fresh = SyncEngine.forTests(store: store, embedder: server.embedder(), cache: nil, collection: "fresh")
    _ = try await fresh.sync(repository: try Repository(path: repo.url))
    let got = try await StoreSnapshot.rows(store, "inc")
    let want = try await StoreSnapshot.rows(store, "fresh")
    #expect(got == want)
  }

  @Test func defaultNamesComeFromTheRepository() throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-names")
    let env = TemporaryGitRepository.isolatedEnvironment(home: folder.path)
    let main = try Self.repository(["x.txt": "x\n"], in: folder, named: "srv/app")
    #expect(CollectionName.default(for: try Repository(path: main)) == "app")
    #expect(CollectionName.default(for: try Repository.discover(from: main.appendingPathComponent(".git"), environment: env)) == "app")

    // A linked worktree uses its repository's collection, not its own folder's.
    let worktree = folder.url.appendingPathComponent("elsewhere/feature-x")
    try runProcess("git", ["worktree", "add", "-q", worktree.path], in: main, environment: env)
    #expect(CollectionName.default(for: try Repository(path: worktree)) == "app")

    // Bare repositories are named after themselves, not their parent folder.
    for name in ["alpha", "beta"] {
      let bare = folder.url.appendingPathComponent("srv/\(name).git")
      try runProcess("git", ["clone", "-q", "--bare", main.path, bare.path], environment: env)
      #expect(CollectionName.default(for: try Repository(path: bare)) == name)
      let bareWorktree = folder.url.appendingPathComponent("wt-\(name)")
      try runProcess("git", ["worktree", "add", "-q", "--detach", bareWorktree.path], in: bare, environment: env)
      #expect(CollectionName.default(for: try Repository(path: bareWorktree)) == name)
    }
    #expect(CollectionName.default(for: nil) == "default")
  }

  @Test func remoteURLsOfOneRepositoryCompareEqual() {
    let forms = [
      "https://github.com/org/app.git", "https://user:secret@github.com/org/app", "git@github.com:org/app.git",
      "ssh://git@GitHub.com/org/app.git", "github.com/org/app/",
    ]
    for form in forms { #expect(RemoteURL.normalized(form) == "github.com/org/app", "\(form)") }
    #expect(!RemoteURL.sameRepository("https://github.com/org/app.git", "https://github.com/org/app2.git"))
    #expect(RemoteURL.sameRepository("/srv/alpha.git", "/srv/alpha"))
    #expect(!RemoteURL.sameRepository("", ""))
  }
}
