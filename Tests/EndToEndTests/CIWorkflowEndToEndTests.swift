import Foundation
import GitRAGTestSupport
import Testing

/// The generated GitHub workflow and GitLab job, every step in order on a fresh runner (new HOME,
/// no XDG folders, no model, empty caches), for a first push and a second one, against the
/// Qdrant-compatible test server. git-rag's source is this repository (a local URL, at a tag made
/// for the test); the build step installs the tests' binary through the documented
/// GIT_RAG_PREBUILT knob instead of compiling, and everything else runs for real, the model's
/// installation included.
@Suite(.serialized) struct CIWorkflowEndToEndTests {
  static let qdrantKey = "ci-secret-key"

  /// The Qdrant test server, wanting `qdrantKey` as its API key, as a team's shared Qdrant would.
  static func startQdrant() throws -> TestServer {
    try TestServer(
      script: "qdrant_server.py", arguments: ["--api-key-env", "CI_TEST_QDRANT_KEY"], environment: ["CI_TEST_QDRANT_KEY": qdrantKey])
  }

  /// A bare clone of this repository (sharing its objects) with tag `v-ci-test` at HEAD: the
  /// GIT_RAG_REPOSITORY and GIT_RAG_VERSION the pipelines resolve and fetch.
  final class GitRAGSource {
    let folder: TemporaryDirectory
    let url: String
    let commit: String

    init() throws {
      folder = try TemporaryDirectory(prefix: "git-rag-source")
      let root = TestServer.repositoryRoot.path
      commit = try runProcess("git", ["-C", root, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      let bare = folder.url.appendingPathComponent("git-rag.git").path
      try runProcess("git", ["clone", "-q", "--bare", "--shared", root, bare])
      try runProcess("git", ["-C", bare, "tag", "v-ci-test", commit])
      url = "file://" + bare
    }
  }

  /// A local full index of `repo`'s HEAD with the same embedder, in a SQLite store.
  static func localFullIndex(_ e2e: EndToEnd, environment extra: [String: String]) async throws -> [IndexComparison.Key: [Float]] {
    let store = try TemporaryDirectory(prefix: "git-rag-ci-local")
    let clone = try TemporaryDirectory(prefix: "git-rag-ci-local-clone")
    try runProcess("git", ["clone", "-q", e2e.repo.path, clone.path + "/w"], environment: e2e.environment)
    var env = e2e.environment
    for (key, value) in extra { env[key] = value }
    let result = try GitRAGBinary.run(
      ["sync", "--store", "sqlite", "--store-path", store.path, "--collection", "team-index"], in: clone.url.appendingPathComponent("w"),
      environment: env)
    #expect(result.status == 0, "\(result.stderr)")
    return try await IndexComparison.sqlite(directory: store.url, collection: "team-index")
  }

  /// The machine's installed model (scripts/bootstrap put it there), for the local reference index.
  static var installedModel: String {
    let env = ProcessInfo.processInfo.environment
    let cache = env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.cache")
    return cache + "/git-rag/models/all-MiniLM-L6-v2"
  }

  static let firstPush = [
    "src/service.py": "class Service:\n    def handle(self, request):\n        return respond(request)\n",
    "docs/guide.md": "# Guide\n\n## Install\n\nRun the installer.\n\n## Use\n\nCall the service.\n",
    "README.md": "# Service\n\nA small service.\n",
  ]

  static func secondPush(_ repo: TemporaryGitRepository) throws {
    try repo.git("mv", "docs/guide.md", "docs/manual.md")
    try repo.remove("README.md")
    try repo.commit(
      ["src/worker.py": "def drain(queue):\n    return queue.pop()\n", "src/service.py": "def handle(request):\n    return request\n"],
      message: "second push")
  }

  @Test func githubWorkflowRunsAsGeneratedWithTheBuiltInModel() async throws {
    let e2e = try EndToEnd()
    let source = try GitRAGSource()
    let qdrant = try Self.startQdrant()
    defer { qdrant.stop() }
    let runner = try CIStepRunner(
      provider: "github", pipeline: TestServer.repositoryRoot.appendingPathComponent("ci-templates/github/git-rag.yml"))
    let context: [String: Any] = [
      "secrets": ["QDRANT_URL": qdrant.baseURL, "QDRANT_API_KEY": Self.qdrantKey],
      "vars": [
        "GIT_RAG_REPOSITORY": source.url, "GIT_RAG_VERSION": "v-ci-test", "GIT_RAG_PREBUILT": GitRAGBinary.url.path,
        "GIT_RAG_COLLECTION": "team-index",
      ],
      "path": CIStepRunner.systemPath, "depth": 1,
    ]

    try e2e.repo.commit(Self.firstPush)
    let first = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context)
    #expect(first.status == "success", "\(first.log.suffix(4000))")
    #expect(first.step("Build git-rag")?.outcome == "success")
    #expect(first.step("Install the embedding model")?.output.contains("installed at") == true)
    #expect(first.caches == ["git-rag-Linux-\(source.commit)": false, "git-rag-model-all-MiniLM-L6-v2-\(Self.modelChecksum)": false])
    #expect(first.step("Sync the index")?.output.contains("(full)") == true, "\(first.step("Sync the index")?.output ?? "")")
    #expect(first.leaked == 0)

    // The next push: a new shallow checkout, where the last indexed commit does not exist.
    try Self.secondPush(e2e.repo)
    let second = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context)
    #expect(second.status == "success", "\(second.log.suffix(4000))")
    #expect(second.step("Build git-rag")?.outcome == "skipped")
    #expect(second.caches.values.allSatisfy { $0 }, "\(second.caches)")
    #expect(second.step("Install the embedding model")?.output.contains("already installed") == true)
    #expect(second.step("Sync the index")?.output.contains("(reconcile") == true, "\(second.step("Sync the index")?.output ?? "")")
    #expect(second.leaked == 0)

    let shared = try await IndexComparison.qdrant(url: qdrant.baseURL, apiKey: Self.qdrantKey, collection: "team-index")
    let local = try await Self.localFullIndex(e2e, environment: ["GIT_RAG_EMBEDDER": "local", "GIT_RAG_MODEL_PATH": Self.installedModel])
    #expect(!shared.isEmpty)
    #expect(IndexComparison.differences(shared, local) == [])
    print("github workflow, built-in model: first run \(first.seconds)s, second push \(second.seconds)s")
  }

  @Test func githubWorkflowWithTheAPIEmbedderAndABadVersion() async throws {
    let e2e = try EndToEnd()
    let source = try GitRAGSource()
    let qdrant = try Self.startQdrant()
    defer { qdrant.stop() }
    let runner = try CIStepRunner(
      provider: "github", pipeline: TestServer.repositoryRoot.appendingPathComponent("ci-templates/github/git-rag.yml"))
    var vars = [
      "GIT_RAG_REPOSITORY": source.url, "GIT_RAG_VERSION": "no-such-version", "GIT_RAG_PREBUILT": GitRAGBinary.url.path,
      "GIT_RAG_EMBEDDER": "openai", "EMBEDDING_API_URL": e2e.server.baseURL + "/v1", "MODEL_NAME": "test-model",
    ]
    func context() -> [String: Any] {
      [
        "secrets": ["QDRANT_URL": qdrant.baseURL, "QDRANT_API_KEY": Self.qdrantKey, "API_TOKEN": "api-secret-456"], "vars": vars,
        "path": CIStepRunner.systemPath, "depth": 1,
      ]
    }
    try e2e.repo.commit(Self.firstPush)

    // A version that names nothing stops the job at once with one line saying what to set.
    let bad = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context())
    #expect(bad.status == "failure")
    let resolve = try #require(bad.step("Resolve the git-rag version to a commit"))
    #expect(resolve.outcome == "failure")
    #expect(
      resolve.output.contains(
        "git-rag version 'no-such-version' is not a tag, branch or commit of \(source.url). Set the variable GIT_RAG_VERSION"))
    #expect(bad.step("Sync the index")?.outcome == "skipped")
    let nothing = try runProcess("curl", ["-s", "-H", "api-key: \(Self.qdrantKey)", qdrant.baseURL + "/collections"]).stdout
    #expect(!nothing.contains("\"name\""), "nothing written: \(nothing)")

    // The branch name resolves to the commit; the API embedder skips the model steps. The
    // default collection is the repository's (the checkout folder's) name.
    vars["GIT_RAG_VERSION"] = try runProcess(
      "git", ["--git-dir", String(source.url.dropFirst("file://".count)), "symbolic-ref", "--short", "HEAD"], check: false
    )
    .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if vars["GIT_RAG_VERSION"]!.isEmpty { vars["GIT_RAG_VERSION"] = "v-ci-test" }
    vars["GIT_RAG_COLLECTION"] = "team-index"
    let first = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context())
    #expect(first.status == "success", "\(first.log.suffix(4000))")
    #expect(first.step("Cache the embedding model")?.outcome == "skipped")
    #expect(first.step("Install the embedding model")?.outcome == "skipped")
    try Self.secondPush(e2e.repo)
    let second = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context())
    #expect(second.status == "success", "\(second.log.suffix(4000))")
    #expect(second.step("Build git-rag")?.outcome == "skipped")
    #expect(first.leaked == 0 && second.leaked == 0)

    let shared = try await IndexComparison.qdrant(url: qdrant.baseURL, apiKey: Self.qdrantKey, collection: "team-index")
    let local = try await Self.localFullIndex(e2e, environment: [:])
    #expect(!shared.isEmpty)
    #expect(IndexComparison.differences(shared, local) == [])
  }

  @Test func gitlabJobRunsAsGeneratedWithTheBuiltInModel() async throws {
    let e2e = try EndToEnd()
    let source = try GitRAGSource()
    let qdrant = try Self.startQdrant()
    defer { qdrant.stop() }
    let runner = try CIStepRunner(
      provider: "gitlab", pipeline: TestServer.repositoryRoot.appendingPathComponent("ci-templates/gitlab/git-rag.gitlab-ci.yml"))
    let context: [String: Any] = [
      "variables": [
        "QDRANT_URL": qdrant.baseURL, "QDRANT_API_KEY": Self.qdrantKey, "GIT_RAG_REPOSITORY": source.url, "GIT_RAG_VERSION": "v-ci-test",
        "GIT_RAG_PREBUILT": GitRAGBinary.url.path, "GIT_RAG_COLLECTION": "team-index",
      ],
      "masked": [Self.qdrantKey], "path": CIStepRunner.systemPath, "depth": 20,
    ]
    try e2e.repo.commit(Self.firstPush)
    let first = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context)
    #expect(first.status == "success", "\(first.log.suffix(4000))")
    let firstScript = first.step("script")?.output ?? ""
    #expect(firstScript.contains("Building git-rag \(source.commit)"))
    #expect(firstScript.contains("installed at"))
    #expect(firstScript.contains("(full)"), "\(firstScript)")

    // GitLab's default clone keeps 20 commits: the second push diffs from the last indexed one.
    try Self.secondPush(e2e.repo)
    let second = try runner.run(repository: "file://" + e2e.repo.path, branch: "main", commit: e2e.repo.head, context: context)
    #expect(second.status == "success", "\(second.log.suffix(4000))")
    let secondScript = second.step("script")?.output ?? ""
    #expect(secondScript.contains("Using the cached git-rag build of \(source.commit)"))
    #expect(secondScript.contains("already installed"))
    #expect(secondScript.contains("(incremental"), "\(secondScript)")
    #expect(first.leaked == 0 && second.leaked == 0)

    // A push to another branch does not run the job.
    try e2e.repo.git("checkout", "-q", "-b", "feature")
    try e2e.repo.commit(["src/feature.py": "x = 1\n"])
    let feature = try runner.run(
      repository: "file://" + e2e.repo.path, branch: "feature", commit: e2e.repo.head,
      context: context.merging(["default_branch": "main"]) { $1 })
    #expect(feature.status == "not-run")
    try e2e.repo.git("checkout", "-q", "main")

    let shared = try await IndexComparison.qdrant(url: qdrant.baseURL, apiKey: Self.qdrantKey, collection: "team-index")
    let local = try await Self.localFullIndex(e2e, environment: ["GIT_RAG_EMBEDDER": "local", "GIT_RAG_MODEL_PATH": Self.installedModel])
    #expect(!shared.isEmpty)
    #expect(IndexComparison.differences(shared, local) == [])
    print("gitlab job, built-in model: first run \(first.seconds)s, second push \(second.seconds)s")
  }

  /// The model checksum both templates key their cache with is the one scripts/install-model checks.
  static var modelChecksum: String {
    let script = (try? String(contentsOf: TestServer.repositoryRoot.appendingPathComponent("scripts/install-model"), encoding: .utf8)) ?? ""
    let line = script.split(separator: "\n").first { $0.hasPrefix("sha256=") } ?? ""
    return line.dropFirst("sha256=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
  }
}
