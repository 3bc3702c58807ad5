import Foundation
import GitRAGTestSupport
import Testing

/// The GitHub workflow's sync step, run as CI would: bash, a shallow checkout, secrets in the
/// environment, the real binary, and the Qdrant-compatible test server.
@Suite struct CIWorkflowEndToEndTests {
  @Test func workflowSyncStepIndexesShallowCheckoutsIntoQdrant() throws {
    let e2e = try EndToEnd()
    let qdrant = try TestServer(
      script: "qdrant_server.py", arguments: ["--api-key-env", "CI_TEST_QDRANT_KEY"], environment: ["CI_TEST_QDRANT_KEY": "ci-secret-key"])
    defer { qdrant.stop() }
    let workflow = TestServer.repositoryRoot.appendingPathComponent("ci-templates/github/git-rag.yml").path
    let extract = """
      import sys, yaml
      doc = yaml.safe_load(open(sys.argv[1]))
      for job in doc["jobs"].values():
          for step in job["steps"]:
              if step.get("name") == "Sync the index":
                  print(step["run"])
      """
    let step = try runProcess("python3", ["-c", extract, workflow]).stdout
    #expect(step.contains("git rag sync --store qdrant"))

    var env = e2e.environment
    env["QDRANT_URL"] = qdrant.baseURL
    env["QDRANT_API_KEY"] = "ci-secret-key"
    env["GIT_RAG_COLLECTION"] = "team-index"

    func push(_ files: [String: String]) throws -> TemporaryDirectory {
      try e2e.repo.commit(files)
      let checkout = try TemporaryDirectory(prefix: "git-rag-ci-checkout")
      try runProcess("git", ["clone", "-q", "--depth", "1", "file://\(e2e.repo.path)", checkout.path + "/w"], environment: env)
      return checkout
    }

    let first = try push(["src/service.py": "def handle(request):\n    return respond(request)\n", "README.md": "# Service\n"])
    let run1 = try runProcess("bash", ["-euo", "pipefail", "-c", step], in: first.url.appendingPathComponent("w"), environment: env, check: false)
    #expect(run1.status == 0, "\(run1.stderr)")

    // The next push: a new shallow checkout, where the last indexed commit does not exist.
    let second = try push(["src/worker.py": "def drain(queue):\n    return queue.pop()\n"])
    let secondDir = second.url.appendingPathComponent("w")
    let run2 = try runProcess("bash", ["-euo", "pipefail", "-c", step], in: secondDir, environment: env, check: false)
    #expect(run2.status == 0, "\(run2.stderr)")
    #expect(run2.stdout.contains("reconcile"))
    #expect(!run2.stdout.contains("ci-secret-key") && !run2.stderr.contains("ci-secret-key"))

    let status = try GitRAGBinary.run(["status", "--store", "qdrant", "--json"], in: secondDir, environment: env)
    let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    #expect(object?["last_indexed_commit"] as? String == e2e.repo.head)
    #expect(object?["files"] as? Int == 4)  // three files plus the Python project summary
  }
}
