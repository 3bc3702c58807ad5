import Foundation
import GitRAGTestSupport
import Testing

@Suite struct JobsEndToEndTests {
  @Test func localRuntimeRunsTheWorkerAndPrintShowsTheCommand() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["src/app.py": "def handler(event):\n    return event\n"])

    let printed = try e2e.gitRAG("sync", "--runtime", "local", "--print", "--collection", "jobbed")
    #expect(printed.status == 0)
    #expect(printed.stdout.contains("worker sync --collection jobbed"))
    #expect(!printed.stdout.contains("--runtime"))

    let ran = try e2e.gitRAG("sync", "--runtime", "local", "--wait", "--collection", "jobbed")
    #expect(ran.status == 0, "\(ran.stderr)")
    #expect(ran.stdout.contains("succeeded"))
    #expect(try e2e.json("status", "--collection", "jobbed")["last_indexed_commit"] as? String == e2e.repo.head)

    // The worker entry point itself, as a container would call it.
    let worker = try e2e.gitRAG("worker", "sync", "--collection", "jobbed")
    #expect(worker.status == 0)
    #expect(worker.stdout.contains("up to date"))
    let unknown = try e2e.gitRAG("worker", "explode")
    #expect(unknown.status == 2)
  }

  @Test func dockerPrintForwardsSecretsByNameOnly() throws {
    let e2e = try EndToEnd()
    try e2e.repo.commit(["a.txt": "a\n"])
    let result = try e2e.gitRAG(
      "upload", "repo", "https://git.example.com/org/app.git", "app", "--store", "qdrant", "--runtime", "docker", "--print",
      environment: ["API_TOKEN": "sk-very-secret-value"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("-e API_TOKEN"))
    #expect(!result.stdout.contains("sk-very-secret-value"))
  }
}
