import Foundation
import GitRAGCore

/// What a worker does: the `git-rag worker <operation>` subcommand it runs.
public enum JobOperation: String, Sendable, Codable, Hashable, CaseIterable {
  case sync
  case uploadFile = "upload-file"
  case uploadRepo = "upload-repo"
  case uploadArchive = "upload-archive"
  case collection
}

/// CPU and memory a job asks for; nil leaves it to the runtime's defaults.
public struct JobResources: Sendable, Codable, Hashable {
  /// Cores, e.g. 0.5 or 2.
  public var cpu: Double?
  /// Memory in MiB.
  public var memoryMiB: Int?

  public init(cpu: Double? = nil, memoryMiB: Int? = nil) {
    self.cpu = cpu
    self.memoryMiB = memoryMiB
  }

  /// Parses Kubernetes-style quantities: cpu `2`, `0.5` or `500m`; memory `512Mi`, `2Gi`, `1G`, `300M`.
  public init(cpu: String?, memory: String?) throws(JobError) {
    self.cpu = try cpu.map { text throws(JobError) in
      let value = text.hasSuffix("m") ? Double(text.dropLast()).map { $0 / 1000 } : Double(text)
      guard let value, value > 0 else { throw JobError.invalidResource("cpu", text) }
      return value
    }
    memoryMiB = try memory.map { text throws(JobError) in
      let units: [(String, Double)] = [
        ("Ki", 1.0 / 1024), ("Mi", 1), ("Gi", 1024), ("Ti", 1024 * 1024),
        ("K", 1000.0 / 1_048_576), ("M", 1_000_000.0 / 1_048_576), ("G", 1e9 / 1_048_576), ("T", 1e12 / 1_048_576),
      ]
      for (suffix, factor) in units where text.hasSuffix(suffix) {
        if let number = Double(text.dropLast(suffix.count)), number > 0 {
          return max(1, Int((number * factor).rounded(.up)))
        }
      }
      throw JobError.invalidResource("memory", text)
    }
  }

  /// Kubernetes quantity for `cpu`: `500m`, `2`.
  var cpuQuantity: String? {
    cpu.map { $0 == $0.rounded() ? String(Int($0)) : "\(Int(($0 * 1000).rounded()))m" }
  }

  /// `cpu` as a plain decimal (`0.5`, `2`), as Docker and AWS Batch take it.
  var cpuDecimal: String? {
    cpu.map { $0 == $0.rounded() ? String(Int($0)) : String($0) }
  }
}

/// A stateless unit of work: a worker command plus the names of the environment variables it needs.
///
/// Values never travel inside a `Job`: runtimes forward variables by name (`docker -e NAME`),
/// by reference (Kubernetes secrets) or, for non-secret variables only, by value (AWS Batch).
public struct Job: Sendable, Codable, Hashable {
  public var operation: JobOperation
  public var arguments: [String]
  /// Names only; values come from the submitting process's environment or from secrets.
  public var forwardEnvironment: [String]
  public var resources: JobResources
  /// The job's name on the runtime (a Kubernetes object name, an AWS Batch job name).
  public var name: String

  public init(
    operation: JobOperation, arguments: [String] = [], forwardEnvironment: [String] = [],
    resources: JobResources = JobResources(), name: String? = nil
  ) {
    self.operation = operation
    self.arguments = arguments
    self.forwardEnvironment = forwardEnvironment
    self.resources = resources
    self.name = name ?? "git-rag-\(operation.rawValue)-\(UUID().uuidString.prefix(8).lowercased())"
  }

  /// The variables git-rag workers read, for callers that forward "everything git-rag uses".
  public static let standardEnvironment = [
    "API_TOKEN", "MODEL_NAME", "EMBEDDING_API_URL", "QDRANT_URL", "QDRANT_HOST", "QDRANT_PORT",
    "QDRANT_API_KEY", "GITHUB_TOKEN", "GIT_RAG_TOKEN",
  ]

  /// `worker <operation> <arguments…>`: what the `git-rag` binary is given.
  public var workerArguments: [String] { ["worker", operation.rawValue] + arguments }

  /// True for a variable whose value must never be written into a command line or manifest.
  public static func isSecret(_ name: String) -> Bool {
    let upper = name.uppercased()
    return ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"].contains { upper.contains($0) }
  }

  /// True when an argument names a repository reached over SSH (`ssh://…` or `user@host:path`).
  static func isSSHURL(_ argument: String) -> Bool {
    if argument.hasPrefix("ssh://") || argument.hasPrefix("git+ssh://") { return true }
    guard !argument.contains("://"), let at = argument.firstIndex(of: "@"),
      let colon = argument[at...].firstIndex(of: ":")
    else { return false }
    return at > argument.startIndex && argument.index(after: colon) < argument.endIndex
  }
}

/// What a runtime would submit, shown by `--print` and checked by golden tests.
public enum JobSubmission: Sendable, Hashable {
  /// A program and its arguments (local and Docker runtimes).
  case command(arguments: [String])
  /// A manifest applied with a tool (`kubectl apply -f -`), the text given on stdin.
  case manifest(tool: [String], text: String)
  /// An HTTPS request (AWS Batch); `notes` say what was deliberately left out.
  case request(method: String, url: String, body: String, notes: [String])

  /// Human-readable text for `--print`.
  public var text: String {
    switch self {
    case .command(let arguments): arguments.map(shellQuoted).joined(separator: " ") + "\n"
    case .manifest(_, let text): text
    case let .request(method, url, body, notes):
      notes.map { "# \($0)\n" }.joined() + "\(method) \(url)\n\n\(body)\n"
    }
  }
}

/// Quotes `word` for a POSIX shell when it needs quoting.
func shellQuoted(_ word: String) -> String {
  let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
  if !word.isEmpty, word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
  return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// What became of a submitted job.
public struct JobOutcome: Sendable, Hashable {
  public enum Status: Sendable, Hashable {
    /// Handed to the runtime; not waited for.
    case submitted
    case succeeded
    case failed(reason: String)
  }

  /// The runtime's id: a process id, container id, Kubernetes job name or AWS Batch job id.
  public var id: String
  public var status: Status
  /// The worker's exit code, when the runtime reports one.
  public var exitCode: Int32?

  public init(id: String, status: Status, exitCode: Int32? = nil) {
    self.id = id
    self.status = status
    self.exitCode = exitCode
  }
}

/// Somewhere a `Job` can run: this machine, Docker, Kubernetes or AWS Batch. Adding a runtime:
/// docs/architecture.md, "Where to add things".
public protocol JobRuntime: Sendable {
  /// What `submit` would hand to the runtime (argv, manifest or request), for `--print`.
  func plan(_ job: Job) throws -> JobSubmission
  /// Submits the job; with `wait`, returns only when it has finished.
  func submit(_ job: Job, wait: Bool) async throws -> JobOutcome
}

/// Why a job could not be planned, submitted or waited for.
public enum JobError: UserFacingError, Equatable {
  case toolNotFound(tool: String, hint: String)
  case missingConfiguration(String)
  case invalidResource(String, String)
  case toolFailed(command: String, status: Int32, output: String)
  case requestFailed(String)
  case jobFailed(id: String, reason: String)
  /// A URL with credentials would be written into the job spec.
  case credentialsInURL(where: String, use: String)

  public var errorDescription: String? {
    switch self {
    case let .toolNotFound(tool, hint):
      "`\(tool)` was not found on PATH. \(hint)"
    case .missingConfiguration(let message):
      message
    case let .invalidResource(kind, value):
      "Invalid \(kind) '\(value)'. Use e.g. --cpu 2 or 500m, --memory 512Mi or 2Gi."
    case let .toolFailed(command, status, output):
      "`\(command)` exited with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))"
    case .requestFailed(let message):
      message
    case let .jobFailed(id, reason):
      "Job \(id) failed: \(reason)"
    case let .credentialsInURL(location, variable):
      "\(location) holds a user name and password (user:password@), which the job spec would carry in plain text: drop them from the URL and pass the credential as \(variable), which jobs receive as a secret reference."
    }
  }

  public var exitCode: Int32 {
    if case .invalidResource = self { return 2 }
    if case .credentialsInURL = self { return 2 }
    return 1
  }
}
