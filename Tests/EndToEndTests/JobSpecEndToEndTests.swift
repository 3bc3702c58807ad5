import Foundation
import GitRAGTestSupport
import Testing

/// Every container job spec git-rag prints, executed as its runtime would (see `JobSpecRunner`):
/// the real binary in an empty folder with a fresh HOME and only the spec's environment, cloning
/// from the smart-HTTP git test server and writing to the Qdrant test server. Each result must
/// equal a local full index of the same commit.
@Suite struct JobSpecEndToEndTests {
  static let qdrantKey = PushedRepository.qdrantKey

  static var kubernetesSecret: [String: Any] {
    [
      "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "git-rag"],
      "data": ["QDRANT_API_KEY": Data(qdrantKey.utf8).base64EncodedString()],
    ]
  }

  /// Runs the spec `arguments … --print` printed, as `runtime` would.
  static func execute(_ runtime: String, printed: String, submitting: [String: String]) throws -> ProcessResult {
    let container: JobSpecRunner.Container
    switch runtime {
    case "docker": container = try JobSpecRunner.docker(printed, dockerEnvironment: submitting)
    case "kubernetes": container = try JobSpecRunner.kubernetes(printed, secret: kubernetesSecret)
    default: container = try JobSpecRunner.awsBatch(printed, definitionSecrets: ["QDRANT_API_KEY": qdrantKey])
    }
    return try JobSpecRunner.run(container)
  }

  static let batchOptions = ["--job-queue", "git-rag-queue", "--job-definition", "git-rag-worker:3"]

  @Test(arguments: ["docker", "kubernetes", "aws-batch"])
  func syncFromAWorkingTreeRunsAsItsRuntimeWould(runtime: String) async throws {
    let pushed = try PushedRepository()

    // Without a remote there is nothing a container could clone.
    let noRemote = try pushed.gitRAG(
      ["sync", "--store", "qdrant", "--runtime", runtime, "--print"] + (runtime == "aws-batch" ? Self.batchOptions : []))
    #expect(noRemote.status == 3)
    #expect(noRemote.stdout.isEmpty)
    #expect(noRemote.stderr.contains("no remote \"origin\"") && noRemote.stderr.split(separator: "\n").count == 1, "\(noRemote.stderr)")

    try pushed.addOriginAndPush()
    // The store comes from git config and the embedder from the environment: both must reach the job.
    try pushed.e2e.repo.git("config", "rag.store", "qdrant")
    let command =
      ["sync", "--collection", "jobs-\(runtime)", "--runtime", runtime, "--print"] + (runtime == "aws-batch" ? Self.batchOptions : [])

    // A commit not yet pushed is refused: the job would index something else.
    try pushed.e2e.repo.commit(["src/late.py": "def late():\n    return 1\n"], message: "not pushed")
    let unpushed = try pushed.gitRAG(command)
    #expect(unpushed.status == 3)
    #expect(
      unpushed.stderr.contains("1 commit not pushed to origin/main") && unpushed.stderr.contains("git push origin main"),
      "\(unpushed.stderr)")
    try pushed.e2e.repo.git("push", "-q", "origin", "main")

    let printed = try pushed.gitRAG(command)
    #expect(printed.status == 0, "\(printed.stderr)")
    let spec = printed.stdout
    #expect(spec.contains(pushed.e2e.repo.head))
    for secret in [Self.qdrantKey, "embedding-api-token"] { #expect(!spec.contains(secret), "a secret value in the spec") }
    for setting in ["--store", "qdrant", "--embedder", "openai", "--model", "test-model", pushed.e2e.server.baseURL, pushed.qdrant.baseURL]
    {
      #expect(spec.contains(setting), "\(setting) missing from the spec")
    }

    let ran = try Self.execute(runtime, printed: spec, submitting: pushed.submitting)
    #expect(ran.status == 0, "\(ran.stderr)")
    let shared = try await pushed.shared("jobs-\(runtime)")
    #expect(!shared.isEmpty)
    #expect(IndexComparison.differences(shared, try await pushed.localIndex()) == [])
  }

  @Test func uploadsAndCollectionsAsJobs() async throws {
    let pushed = try PushedRepository()
    try pushed.addOriginAndPush()

    // A remote repository indexed in a container: the first use runtimes were designed for.
    let repo = try pushed.gitRAG(["upload", "repo", pushed.url, "remote-index", "--store", "qdrant", "--runtime", "kubernetes", "--print"])
    #expect(repo.status == 0, "\(repo.stderr)")
    let repoRun = try Self.execute("kubernetes", printed: repo.stdout, submitting: pushed.submitting)
    #expect(repoRun.status == 0, "\(repoRun.stderr)")
    #expect(IndexComparison.differences(try await pushed.shared("remote-index"), try await pushed.localIndex()) == [])

    // A file on this machine: Docker mounts its folder read-only; Kubernetes cannot see it.
    let folder = try TemporaryDirectory(prefix: "git-rag-job-file")
    let file = try folder.write("notes.md", "# Notes\n\nThe deploy runs on Fridays.\n")
    let docker = try pushed.gitRAG(["upload", "file", file.path, "notes", "--store", "qdrant", "--runtime", "docker", "--print"])
    #expect(docker.status == 0, "\(docker.stderr)")
    #expect(docker.stdout.contains("-v \(folder.path):\(folder.path):ro"))
    let fileRun = try Self.execute("docker", printed: docker.stdout, submitting: pushed.submitting)
    #expect(fileRun.status == 0, "\(fileRun.stderr)")
    #expect(try await pushed.shared("notes").keys.map(\.path) == ["notes.md"])
    let refused = try pushed.gitRAG(["upload", "file", file.path, "notes", "--store", "qdrant", "--runtime", "kubernetes", "--print"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("cannot read") && refused.stderr.contains("--runtime docker"), "\(refused.stderr)")

    // An archive through AWS Batch is refused the same way; a local path as a repository too.
    let archive = try pushed.gitRAG(
      ["upload", "archive", file.path, "notes", "--store", "qdrant", "--runtime", "aws-batch", "--print"] + Self.batchOptions)
    #expect(archive.status == 2 && archive.stderr.contains("cannot read"))
    let localRepo = try pushed.gitRAG(["upload", "repo", pushed.e2e.repo.path, "x", "--store", "qdrant", "--runtime", "docker", "--print"])
    #expect(localRepo.status == 2 && localRepo.stderr.contains("cannot clone"), "\(localRepo.stderr)")

    // A SQLite store would stay inside the container.
    let sqlite = try pushed.gitRAG(["sync", "--runtime", "docker", "--print"])
    #expect(sqlite.status == 2 && sqlite.stderr.contains("--store qdrant"), "\(sqlite.stderr)")

    // collection delete, as an AWS Batch job.
    let delete = try pushed.gitRAG(
      ["collection", "delete", "notes", "--store", "qdrant", "--runtime", "aws-batch", "--print"] + Self.batchOptions)
    #expect(delete.status == 0, "\(delete.stderr)")
    let deleteRun = try Self.execute("aws-batch", printed: delete.stdout, submitting: pushed.submitting)
    #expect(deleteRun.status == 0, "\(deleteRun.stderr)")
    let list = try pushed.gitRAG(["collection", "list", "--store", "qdrant", "--json"])
    #expect(list.stdout.contains("remote-index") && !list.stdout.contains("notes"), "\(list.stdout)")
  }

  @Test func unreachableRemoteFailsTheJobAndWritesNothing() async throws {
    let pushed = try PushedRepository()
    try pushed.addOriginAndPush()
    // A commit the remote lacks (the remote-tracking branch said pushed; the remote was reset since).
    let valid = try pushed.gitRAG(["sync", "--store", "qdrant", "--collection", "never", "--runtime", "docker", "--print"])
    let missing = valid.stdout.replacingOccurrences(of: pushed.e2e.repo.head, with: String(repeating: "0123456789", count: 4))
    let missingRun = try Self.execute("docker", printed: missing, submitting: pushed.submitting)
    #expect(missingRun.status == 3)
    #expect(missingRun.stderr.contains("is not in \(pushed.url) (branch main). Push it first"), "\(missingRun.stderr)")

    // The remote moved away after the push (the recorded remote-tracking branch still says pushed).
    let closed = try TestServer(script: "git_http_server.py", arguments: ["--root", pushed.served.path])
    let gone = closed.baseURL + "/app.git"
    closed.stop()
    try pushed.e2e.repo.git("remote", "set-url", "origin", gone)

    let printed = try pushed.gitRAG(["sync", "--store", "qdrant", "--collection", "never", "--runtime", "docker", "--print"])
    #expect(printed.status == 0, "\(printed.stderr)")
    let ran = try Self.execute("docker", printed: printed.stdout, submitting: pushed.submitting)
    #expect(ran.status != 0)
    let lines = ran.stderr.split(separator: "\n").filter { !$0.hasPrefix("Warning:") }
    #expect(lines.count == 1, "\(ran.stderr)")
    let list = try pushed.gitRAG(["collection", "list", "--store", "qdrant", "--json"])
    #expect(!list.stdout.contains("never"), "nothing written: \(list.stdout)")
  }
}

/// A repository whose `origin` is served over smart HTTP, its main branch pushed.
final class PushedRepository: @unchecked Sendable {
  static let qdrantKey = "job-qdrant-key"

  // @unchecked: built in init, then used by one test.
  let e2e: EndToEnd
  let served: TemporaryDirectory
  let git: TestServer
  let qdrant: TestServer
  let url: String

  init() throws {
    e2e = try EndToEnd()
    served = try TemporaryDirectory(prefix: "git-rag-served")
    try runProcess("git", ["init", "-q", "--bare", "-b", "main", served.path + "/app.git"], environment: e2e.environment)
    git = try TestServer(script: "git_http_server.py", arguments: ["--root", served.path])
    qdrant = try TestServer(
      script: "qdrant_server.py", arguments: ["--api-key-env", "JOB_TEST_QDRANT_KEY"],
      environment: ["JOB_TEST_QDRANT_KEY": PushedRepository.qdrantKey])
    url = git.baseURL + "/app.git"
    try e2e.repo.commit([
      "src/app.py": "class App:\n    def run(self):\n        return 'ok'\n",
      "docs/guide.md": "# Guide\n\n## Start\n\nRun it.\n",
    ])
  }

  func addOriginAndPush() throws {
    // Fetches go over smart HTTP; pushes go straight to the served folder.
    try e2e.repo.git("remote", "add", "origin", url)
    try e2e.repo.git("config", "remote.origin.pushurl", served.path + "/app.git")
    try e2e.repo.git("push", "-q", "-u", "origin", "main")
  }

  /// What the submitting shell has: the Qdrant URL and key, and the embedder chosen by environment only.
  var submitting: [String: String] {
    var env = e2e.environment
    env["QDRANT_URL"] = qdrant.baseURL
    env["QDRANT_API_KEY"] = PushedRepository.qdrantKey
    env["API_TOKEN"] = "embedding-api-token"
    env["AWS_REGION"] = "eu-west-1"
    return env
  }

  func gitRAG(_ arguments: [String]) throws -> ProcessResult {
    try GitRAGBinary.run(arguments, in: e2e.repo.url, environment: submitting)
  }

  func shared(_ collection: String) async throws -> [IndexComparison.Key: [Float]] {
    try await IndexComparison.qdrant(url: qdrant.baseURL, apiKey: PushedRepository.qdrantKey, collection: collection)
  }

  /// A full index of HEAD made here, in a SQLite store, with the same embedder.
  func localIndex() async throws -> [IndexComparison.Key: [Float]] {
    let store = try TemporaryDirectory(prefix: "git-rag-job-local")
    let result = try GitRAGBinary.run(
      ["sync", "--store", "sqlite", "--store-path", store.path, "--collection", "reference"], in: e2e.repo.url, environment: e2e.environment
    )
    #expect(result.status == 0, "\(result.stderr)")
    return try await IndexComparison.sqlite(directory: store.url, collection: "reference")
  }
}
