import Foundation
import GitRAGTestSupport
import Hooks
import Testing

@Suite struct CITemplateIndexRefTests {
  /// The YAML file at `path` as JSON (PyYAML), `on:` kept as a string key.
  private func load(_ path: URL) throws -> Any {
    let json = try python(
      """
      import json, sys, yaml
      data = yaml.safe_load(open(sys.argv[1]))
      print(json.dumps(data, default=str).replace('"true":', '"on":'))
      """, [path.path])
    return try JSONSerialization.jsonObject(with: Data(json.utf8))
  }

  @Test func githubPublishesWithContentsWrite() throws {
    let root = try TemporaryDirectory()
    let written = try writeCITemplate(provider: "github", repositoryRoot: root.url, force: false, publishIndex: true)
    #expect(written.instructions.contains { $0.contains("contents: write") })
    let workflow = try #require(try load(written.files[0]) as? [String: Any])
    #expect((workflow["permissions"] as? [String: String])?["contents"] == "write")
    let job = try #require((workflow["jobs"] as? [String: Any])?["sync"] as? [String: Any])
    let steps = try #require(job["steps"] as? [[String: Any]])
    let sync = try #require(steps.firstIndex { ($0["run"] as? String)?.hasPrefix("git rag sync") == true })
    let push = try #require(steps.last)
    #expect(steps.count == sync + 2)
    #expect((push["run"] as? String)?.hasPrefix("git rag push --replace --store qdrant") == true)
    #expect((push["run"] as? String)?.contains("$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git") == true)
    #expect((push["env"] as? [String: String])?["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}")
    // Without the option the workflow stays read-only.
    let plain = try TemporaryDirectory()
    let readOnly = try writeCITemplate(provider: "github", repositoryRoot: plain.url, force: false)
    #expect(((try load(readOnly.files[0]) as? [String: Any])?["permissions"] as? [String: String])?["contents"] == "read")
  }

  @Test func gitlabPublishesWithAProjectToken() throws {
    let root = try TemporaryDirectory()
    let written = try writeCITemplate(provider: "gitlab", repositoryRoot: root.url, force: false, publishIndex: true)
    #expect(written.instructions.contains { $0.contains("GIT_RAG_PUSH_TOKEN") && $0.contains("write_repository") })
    let pipeline = try #require(try load(written.files[0]) as? [String: Any])
    let script = try #require((pipeline["git-rag"] as? [String: Any])?["script"] as? [String])
    #expect(script.count == 2 && script[0].hasPrefix("git rag sync"))
    #expect(script[1].hasPrefix("GIT_RAG_TOKEN=\"$GIT_RAG_PUSH_TOKEN\" git rag push --replace --store qdrant"))
    #expect(script[1].hasSuffix("\"$CI_SERVER_URL/$CI_PROJECT_PATH.git\""))
  }
}
