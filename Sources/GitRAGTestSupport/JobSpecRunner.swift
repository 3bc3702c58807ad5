import Foundation

/// Executes a job spec printed by `git rag … --runtime R --print` as its runtime would: the
/// container's command and environment are read from the spec, and the built `git-rag` runs
/// with exactly those (its image's entrypoint is `git-rag worker`) in an empty folder with a
/// fresh HOME. Nothing else of the test's environment reaches it.
public struct JobSpecRunner {
  /// What a runtime would start: the entrypoint's arguments and the container's environment.
  public struct Container: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    /// Docker bind mounts `source:target[:ro]`.
    public var mounts: [String] = []
  }

  /// `docker run … IMAGE <arguments…>`; `-e NAME` takes NAME's value from `dockerEnvironment`
  /// (docker's own environment: the submitting shell's).
  public static func docker(_ printed: String, dockerEnvironment: [String: String]) throws -> Container {
    let words = try shellWords(printed)
    guard words.count > 2, words[0] == "docker", words[1] == "run" else { throw failure("not a docker run command: \(printed)") }
    var container = Container(arguments: [], environment: [:])
    let valued: Set<String> = ["--name", "--network", "--cpus", "--memory", "-e", "--env", "-v", "--volume", "--user", "-w"]
    var index = 2
    while index < words.count, words[index].hasPrefix("-") {
      let option = words[index]
      if valued.contains(option) {
        guard index + 1 < words.count else { throw failure("\(option) without a value") }
        let value = words[index + 1]
        switch option {
        case "-e", "--env":
          if let eq = value.firstIndex(of: "=") {
            container.environment[String(value[..<eq])] = String(value[value.index(after: eq)...])
          } else if let forwarded = dockerEnvironment[value] {
            container.environment[value] = forwarded
          }
        case "-v", "--volume": container.mounts.append(value)
        default: break
        }
        index += 2
      } else {
        index += 1
      }
    }
    guard index < words.count else { throw failure("no image in \(printed)") }
    container.arguments = Array(words[(index + 1)...])
    return container
  }

  /// A `batch/v1` Job manifest (JSON): the first container's `args` (after the image's
  /// entrypoint; a `command` replaces it) and `env`, with `secretKeyRef` read from `secret`, a
  /// Kubernetes Secret object (`data` base64-encoded, or `stringData`).
  public static func kubernetes(_ manifest: String, secret: [String: Any]) throws -> Container {
    guard let object = try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any],
      object["kind"] as? String == "Job",
      let spec = object["spec"] as? [String: Any], let template = spec["template"] as? [String: Any],
      let podSpec = template["spec"] as? [String: Any], let container = (podSpec["containers"] as? [[String: Any]])?.first
    else { throw failure("not a Kubernetes Job manifest") }
    if container["command"] != nil { throw failure("the manifest overrides the image's entrypoint") }
    var values: [String: String] = secret["stringData"] as? [String: String] ?? [:]
    for (key, encoded) in secret["data"] as? [String: String] ?? [:] {
      guard let data = Data(base64Encoded: encoded) else { throw failure("Secret key \(key) is not base64") }
      values[key] = String(decoding: data, as: UTF8.self)
    }
    let secretName = (secret["metadata"] as? [String: Any])?["name"] as? String
    var out = Container(arguments: container["args"] as? [String] ?? [], environment: [:])
    for entry in container["env"] as? [[String: Any]] ?? [] {
      guard let name = entry["name"] as? String else { continue }
      if let value = entry["value"] as? String {
        out.environment[name] = value
      } else if let ref = (entry["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] {
        let optional = ref["optional"] as? Bool ?? false
        guard ref["name"] as? String == secretName, let key = ref["key"] as? String else {
          if optional { continue }
          throw failure("\(name) refers to Secret \(ref["name"] ?? "?"), which does not exist")
        }
        if let value = values[key] {
          out.environment[name] = value
        } else if !optional {
          throw failure("Secret \(secretName ?? "?") has no key \(key) (CreateContainerConfigError)")
        }
      }
    }
    return out
  }

  /// An AWS Batch `SubmitJob` as `--print` shows it (notes, the request line, the JSON body): the
  /// `containerOverrides` command and environment, plus the values the job definition's
  /// `secrets` would add (`definitionSecrets`, name to value, as Secrets Manager would resolve them).
  public static func awsBatch(_ printed: String, definitionSecrets: [String: String], definitionEnvironment: [String: String] = [:]) throws
    -> Container
  {
    guard let start = printed.firstIndex(of: "{"),
      let body = try JSONSerialization.jsonObject(with: Data(printed[start...].utf8)) as? [String: Any],
      let overrides = body["containerOverrides"] as? [String: Any], let command = overrides["command"] as? [String]
    else { throw failure("not a SubmitJob request: \(printed)") }
    var out = Container(arguments: command, environment: definitionEnvironment)
    for entry in overrides["environment"] as? [[String: String]] ?? [] {
      if let name = entry["name"], let value = entry["value"] { out.environment[name] = value }
    }
    for (name, value) in definitionSecrets { out.environment[name] = value }
    return out
  }

  /// Runs `git-rag worker <arguments>` with only the container's environment plus what the image
  /// sets (PATH, HOME), in an empty folder with a fresh HOME. `model`, when given, is put where an
  /// image built with `--build-arg WITH_MODEL=1` has it (`$HOME/.cache/git-rag/models/<name>`).
  public static func run(_ container: Container, model: URL? = nil) throws -> ProcessResult {
    for mount in container.mounts {
      let parts = mount.split(separator: ":").map(String.init)
      // Bind mounts at the same path are what runs here unchanged.
      guard parts.count >= 2, parts[0] == parts[1] else { throw failure("mount \(mount) changes the path; it cannot run here") }
    }
    let folder = try TemporaryDirectory(prefix: "git-rag-job")
    let home = folder.url.appendingPathComponent("home")
    let work = folder.url.appendingPathComponent("work")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    if let model {
      let models = home.appendingPathComponent(".cache/git-rag/models")
      try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(at: models.appendingPathComponent(model.lastPathComponent), withDestinationURL: model)
    }
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home.path, "GIT_CONFIG_NOSYSTEM": "1", "TMPDIR": folder.path]
    for (key, value) in container.environment { env[key] = value }
    return try GitRAGBinary.run(["worker"] + container.arguments, in: work, environment: env)
  }

  /// Splits a POSIX shell line (as `--print` quotes it: bare words and single quotes).
  public static func shellWords(_ line: String) throws -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quoted = false
    var escaped = false
    for character in line.trimmingCharacters(in: .whitespacesAndNewlines) {
      if escaped {
        current.append(character)
        escaped = false
      } else if quoted {
        if character == "'" { quoted = false } else { current.append(character) }
      } else if character == "'" {
        quoted = true
        inWord = true
      } else if character == "\\" {
        inWord = true
        escaped = true
      } else if character == " " || character == "\n" {
        if inWord { words.append(current) }
        current = ""
        inWord = false
      } else {
        current.append(character)
        inWord = true
      }
    }
    if quoted { throw failure("unterminated quote in \(line)") }
    if inWord { words.append(current) }
    return words
  }

  static func failure(_ message: String) -> TestServerError { TestServerError(message: "job spec: \(message)") }
}
