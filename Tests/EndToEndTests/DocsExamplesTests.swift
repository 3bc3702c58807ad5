import Foundation
import GitRAGTestSupport
import Testing

/// Every example in docs/automation.md, extracted from its fenced blocks and run (commands, with
/// the built binary against the test servers) or parsed and checked against what it refers to
/// (YAML, JSON, the hook illustration). An example the test does not know how to check fails it.
@Suite struct DocsExamplesTests {
  struct Block {
    let language: String
    let lines: [String]
    let line: Int
  }

  static func blocks() throws -> [Block] {
    let text = try String(contentsOf: TestServer.repositoryRoot.appendingPathComponent("docs/automation.md"), encoding: .utf8)
    var out: [Block] = []
    var current: (language: String, lines: [String], line: Int)?
    for (number, line) in text.components(separatedBy: "\n").enumerated() {
      if line.hasPrefix("```") {
        if let open = current {
          out.append(Block(language: open.language, lines: open.lines, line: open.line))
          current = nil
        } else {
          current = (String(line.dropFirst(3)), [], number + 1)
        }
      } else if current != nil {
        current!.lines.append(line)
      }
    }
    return out
  }

  /// A command line without its trailing `# comment`.
  static func command(_ line: String) -> String {
    guard let range = line.range(of: #"\s{2,}#.*$"#, options: .regularExpression) else { return line.trimmingCharacters(in: .whitespaces) }
    return String(line[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
  }

  static func python(_ code: String, _ input: String) throws -> String {
    try runProcess("python3", ["-c", code], input: Data(input.utf8)).stdout
  }

  static let yamlToJSON = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"

  @Test func everyExampleRuns() async throws {
    let pushed = try PushedRepository()
    try pushed.addOriginAndPush()
    try pushed.e2e.repo.git("config", "rag.collection", "docs-examples")
    _ = try pushed.e2e.repo.write("notes.md", "# Notes\n\nThe deploy runs on Fridays.\n")
    var env = pushed.submitting
    env["GIT_RAG_STORE"] = "qdrant"
    let blocks = try Self.blocks()
    #expect(blocks.count >= 12)
    var checked = 0
    var secretKeys: Set<String> = []

    for block in blocks {
      let text = block.lines.joined(separator: "\n")
      let place = "docs/automation.md:\(block.line)"
      switch block.language {
      case "yaml":
        let json = try Self.python(Self.yamlToJSON, text)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
        if let config = parsed as? [String: Any], let repos = config["repos"] as? [[String: Any]] {
          // pre-commit: the hook id is one .pre-commit-hooks.yaml defines.
          let defined = try Self.python(
            Self.yamlToJSON, String(contentsOf: TestServer.repositoryRoot.appendingPathComponent(".pre-commit-hooks.yaml"), encoding: .utf8)
          )
          for hook in repos.flatMap({ $0["hooks"] as? [[String: Any]] ?? [] }) {
            #expect(defined.contains("\"id\": \"\(hook["id"] as? String ?? "?")\""), "\(place)")
          }
        } else if let hooks = parsed as? [String: Any], hooks["post-commit"] != nil {
          // lefthook: each command runs in a repository, with lefthook's {3} filled in.
          for case let stage as [String: Any] in hooks.values {
            for case let command as [String: Any] in (stage["commands"] as? [String: Any] ?? [:]).values {
              let run = (command["run"] as? String ?? "").replacingOccurrences(of: "{3}", with: "1")
              let result = try runProcess("bash", ["-c", run + "\nwait"], in: pushed.e2e.repo.url, environment: env, check: false)
              #expect(result.status == 0, "\(place): \(run)")
            }
          }
        } else if let steps = parsed as? [[String: Any]] {
          // The composite action: its inputs are the action's.
          let action = try Self.python(
            Self.yamlToJSON, String(contentsOf: TestServer.repositoryRoot.appendingPathComponent("action.yml"), encoding: .utf8))
          let inputs = try #require(
            (try JSONSerialization.jsonObject(with: Data(action.utf8)) as? [String: Any])?["inputs"] as? [String: Any])
          for step in steps where (step["uses"] as? String)?.contains("git-rag") == true {
            for name in (step["with"] as? [String: Any] ?? [:]).keys { #expect(inputs[name] != nil, "\(place): unknown input \(name)") }
          }
        } else {
          Issue.record("\(place): a YAML example this test does not check")
        }
      case "json":
        let object = try JSONSerialization.jsonObject(with: Data(("{" + text + "}").utf8)) as? [String: Any]
        let secrets = (object?["containerProperties"] as? [String: Any])?["secrets"] as? [[String: String]] ?? []
        #expect(!secrets.isEmpty, "\(place)")
        for secret in secrets { #expect(Self.forwardedSecrets.contains(secret["name"] ?? ""), "\(place): \(secret)") }
      case "sh" where block.lines.first == "#!/bin/sh":
        // The chained-hook illustration: what `hooks install` does to someone else's sh hook.
        let repo = try TemporaryGitRepository()
        let hook = repo.url.appendingPathComponent(".git/hooks/post-commit")
        try "#!/bin/sh\necho theirs\n".write(to: hook, atomically: true, encoding: .utf8)
        try runProcess("chmod", ["+x", hook.path])
        var hookEnv = repo.environment
        hookEnv["PATH"] = env["PATH"]
        try runProcess("bash", ["-c", "git rag hooks install"], in: repo.url, environment: hookEnv)
        let installed = try String(contentsOf: hook, encoding: .utf8).components(separatedBy: "\n")
        for line in block.lines where !line.contains("…") { #expect(installed.contains(line), "\(place): \(line)") }
        #expect(installed.suffix(3).contains("echo theirs"), "the original hook follows unchanged")
      default:
        for raw in block.lines where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
          var line = Self.command(raw)
          if line.hasPrefix("git rag ") || line.hasPrefix("git-rag ") {
            if line.contains("--runtime"), !line.contains("--print") { line += " --print" }
            line = line.replacingOccurrences(of: "https://github.com/org/repo", with: pushed.url)
            let result = try runProcess("bash", ["-c", line + "\nwait"], in: pushed.e2e.repo.url, environment: env, check: false)
            #expect(result.status == 0, "\(place): \(line): \(result.stderr)")
            if result.stdout.contains("secretKeyRef") {
              for key in Self.forwardedSecrets where result.stdout.contains("\"\(key)\"") { secretKeys.insert(key) }
            }
          } else if line.hasPrefix("docker build ") {
            // No Docker engine here: the build arg it names is the Dockerfile's.
            let dockerfile = try String(contentsOf: TestServer.repositoryRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
            #expect(line.hasPrefix("docker build -t git-rag ."), "\(place)")
            #expect(raw.contains("WITH_MODEL=1") && dockerfile.contains("ARG WITH_MODEL"), "\(place)")
          } else if line.hasPrefix("docker run ") {
            let printed = line.replacingOccurrences(of: "https://github.com/org/repo", with: pushed.url)
            let container = try JobSpecRunner.docker(printed, dockerEnvironment: env)
            // The image built as the example above says, with the model baked in.
            let result = try JobSpecRunner.run(container, model: URL(fileURLWithPath: CIWorkflowEndToEndTests.installedModel))
            #expect(result.status == 0, "\(place): \(result.stderr)")
            let name = container.arguments.dropFirst(2).first ?? ""
            #expect(
              !(try await IndexComparison.qdrant(url: pushed.qdrant.baseURL, apiKey: PushedRepository.qdrantKey, collection: name)).isEmpty)
          } else if line.hasPrefix("kubectl create secret generic ") {
            let words = line.split(separator: " ").map(String.init)
            #expect(words[4] == "git-rag", "\(place): the runtime's default secret is git-rag")
            for word in words where word.hasPrefix("--from-literal=") {
              let key = String(word.dropFirst("--from-literal=".count).prefix { $0 != "=" })
              #expect(Self.forwardedSecrets.contains(key), "\(place): \(key) is not a variable jobs forward")
            }
          } else {
            Issue.record("\(place): an example this test does not run: \(line)")
            continue
          }
          checked += 1
        }
      }
    }
    #expect(checked >= 12)
    // The Kubernetes Job printed above refers to the keys the `kubectl create secret` example makes.
    #expect(secretKeys.isSuperset(of: ["API_TOKEN", "QDRANT_API_KEY"]), "\(secretKeys)")
  }

  static let forwardedSecrets: Set<String> = ["API_TOKEN", "QDRANT_API_KEY", "GITHUB_TOKEN", "GIT_RAG_TOKEN"]
}
