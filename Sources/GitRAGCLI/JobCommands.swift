import ArgumentParser
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Runtimes
import Store

/// `--runtime` and friends: run a command as a job on another runtime instead of here.
struct RuntimeOptions: ParsableArguments {
  @Option(help: "Run as a job on: local, docker, kubernetes or aws-batch (default: run here).")
  var runtime: String?

  @Flag(name: .customLong("print"), help: "With --runtime: print what would be submitted and submit nothing.")
  var printOnly = false

  @Flag(help: "With --runtime: wait for the job and stream its logs.")
  var wait = false

  @Option(help: ArgumentHelp(Setting.image.help)) var image: String?
  @Option(help: "Docker network.") var network: String?
  @Option(help: "Extra docker volume (repeatable), e.g. $PWD:/work:ro.") var volume: [String] = []
  @Option(help: "Kubernetes namespace.") var namespace: String?
  @Option(name: .customLong("service-account"), help: "Kubernetes service account.") var serviceAccount: String?
  @Option(name: .customLong("image-pull-secret"), help: "Kubernetes image pull secret (repeatable).") var imagePullSecret: [String] = []
  @Option(name: .customLong("secret-name"), help: "Kubernetes secret holding API_TOKEN, QDRANT_API_KEY, GITHUB_TOKEN.") var secretName:
    String?
  @Option(name: .customLong("job-queue"), help: ArgumentHelp(Setting.jobQueue.help)) var jobQueue: String?
  @Option(name: .customLong("job-definition"), help: ArgumentHelp(Setting.jobDefinition.help)) var jobDefinition: String?
  @Option(help: "CPU for the job, e.g. 2 or 500m.") var cpu: String?
  @Option(help: "Memory for the job, e.g. 4Gi or 2048Mi.") var memory: String?
  @Option(name: .customLong("env"), help: "Environment variable to forward by name (repeatable; default: the ones git-rag reads).") var env:
    [String] = []

  /// Option names (with a value) and flags that belong to the submission, not to the job.
  static let valueOptions: Set<String> = [
    "--runtime", "--image", "--network", "--volume", "--namespace", "--service-account", "--image-pull-secret",
    "--secret-name", "--job-queue", "--job-definition", "--cpu", "--memory", "--env",
  ]
  static let flags: Set<String> = ["--print", "--wait"]

  /// The command's own arguments with the submission options taken out.
  static func jobArguments(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var skipNext = false
    for argument in arguments {
      if skipNext { skipNext = false; continue }
      let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
      if flags.contains(argument) { continue }
      if valueOptions.contains(name) {
        if !argument.contains("=") { skipNext = true }
        continue
      }
      out.append(argument)
    }
    return out
  }

  /// The runtime's canonical name, or nil when the command runs here; unknown names are refused.
  func runtimeName() throws -> String? {
    guard let name = runtime?.lowercased() else { return nil }
    switch name {
    case "local": return "local"
    case "docker": return "docker"
    case "kubernetes", "k8s": return "kubernetes"
    case "aws-batch", "batch": return "aws-batch"
    default: throw GitRAGError("Unknown runtime \"\(name)\". Use --runtime local, docker, kubernetes or aws-batch.", exitCode: 2)
    }
  }

  /// True for runtimes whose job runs in a container, away from this machine's files and git config.
  func runsInContainer() throws -> Bool {
    guard let name = try runtimeName() else { return false }
    return name != "local"
  }

  /// Builds the job, then prints it (`--print`) or submits it and reports the outcome.
  ///
  /// `arguments` are the worker operation's own arguments; for container runtimes the submitting
  /// command's settings (store, embedder, model, URLs) are appended, so the job runs as this
  /// command would. `volumes` are extra Docker mounts the job needs.
  func submit(operation: JobOperation, arguments: [String], context: CommandContext, volumes extraVolumes: [String] = []) async throws {
    guard let runtimeName = try runtimeName() else { return }
    let settings = context.settings
    var jobArguments = arguments
    if runtimeName != "local" { jobArguments += try context.jobSettingArguments(runtime: runtimeName) }
    let job = Job(
      operation: operation, arguments: jobArguments,
      forwardEnvironment: env.isEmpty ? Job.standardEnvironment : env,
      resources: try JobResources(cpu: cpu, memory: memory))
    let environment = ProcessInfo.processInfo.environment
    let image = settings.value(.image, flag: image) ?? "git-rag:latest"
    let runtime: any JobRuntime
    switch runtimeName {
    case "local":
      runtime = LocalRuntime(environment: environment)
    case "docker":
      runtime = DockerRuntime(
        configuration: .init(image: image, network: network, volumes: extraVolumes + volume), environment: environment)
    case "kubernetes":
      runtime = KubernetesRuntime(
        configuration: .init(
          image: image, namespace: namespace ?? "default", serviceAccountName: serviceAccount,
          imagePullSecrets: imagePullSecret, secretName: secretName ?? "git-rag"),
        environment: environment)
    default:
      guard let queue = settings.value(.jobQueue, flag: jobQueue),
        let definition = settings.value(.jobDefinition, flag: jobDefinition)
      else {
        throw GitRAGError(
          "AWS Batch needs a job queue and a job definition: pass --job-queue and --job-definition (or set rag.jobQueue and rag.jobDefinition).",
          exitCode: 2)
      }
      runtime = AWSBatchRuntime(configuration: .init(jobQueue: queue, jobDefinition: definition), environment: environment)
    }
    if printOnly {
      print(try runtime.plan(job).text, terminator: "")
      return
    }
    let outcome = try await runtime.submit(job, wait: wait)
    switch outcome.status {
    case .submitted: print("Submitted job \(outcome.id) to \(runtimeName).")
    case .succeeded: print("Job \(outcome.id) succeeded.")
    case .failed(let reason): throw GitRAGError("Job \(outcome.id) on \(runtimeName) failed: \(reason)")
    }
  }

  /// The Docker mount and in-container path for a file or archive on this machine; Kubernetes
  /// and AWS Batch cannot see it, so they are refused with what works instead.
  func localInput(_ path: String, what: String) throws -> (path: String, volumes: [String]) {
    let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
      .standardizedFileURL
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw GitRAGError("\(path) does not exist. Give the \(what) to upload.")
    }
    switch try runtimeName() {
    case "docker":
      // Mounted read-only at the same absolute path, so the job reads the path it was given.
      let folder = url.deletingLastPathComponent().path
      return (url.path, ["\(folder):\(folder):ro"])
    case "kubernetes", "aws-batch":
      throw GitRAGError(
        "A \(runtime ?? "") job cannot read \(path) on this machine. Upload it from here (without --runtime), or use --runtime docker, which mounts it read-only.",
        exitCode: 2)
    default:
      return (url.path, [])
    }
  }
}

extension CommandContext {
  /// The resolved settings a job needs to run as this command would, as worker arguments:
  /// store, Qdrant URL, embedder and, for the openai embedder, its model and base URL. Secrets
  /// are not among them: the runtime forwards API_TOKEN, QDRANT_API_KEY, … by reference.
  func jobSettingArguments(runtime: String) throws -> [String] {
    guard storeKind == "qdrant" else {
      throw GitRAGError(
        "A \(runtime) job's \(storeKind) store would stay inside its container and be lost. Use --store qdrant (or git config rag.store qdrant), or --runtime local.",
        exitCode: 2)
    }
    let qdrant = try QdrantConfiguration.fromEnvironment(environment, urlFlag: options.qdrantURL, gitConfig: settings.gitConfig)
    var arguments = ["--store", "qdrant", "--qdrant-url", qdrant.displayURL, "--embedder", embedderKind]
    if embedderKind == "openai" {
      let api = try OpenAIEmbedderConfiguration.fromEnvironment(
        environment, embeddingURL: options.embeddingURL, model: options.model, gitConfig: settings.gitConfig)
      arguments += ["--model", api.model, "--embedding-url", api.baseURL.absoluteString]
    }
    if let size = try settings.integer(.maxFileSize, flag: options.maxFileSize, name: "max file size") {
      arguments += ["--max-file-size", String(size)]
    }
    return arguments
  }

  /// The worker arguments that index this repository's `remote` at the pushed commit of the
  /// current branch (or `commit`): `<url> <collection> --branch B --commit C`. Refuses a
  /// repository without that remote, a detached HEAD, a branch never pushed, and unpushed commits.
  func pushedSourceArguments(remote: String, commit: String?) throws -> [String] {
    let repository = try requireRepository()
    guard let url = repository.config("remote.\(remote).url") else {
      throw GitRAGError(
        "This repository has no remote \"\(remote)\": a job clones what the remote holds. Add it (git remote add \(remote) URL) and push, or name another with --remote."
      )
    }
    let location = try CloneLocation.parse(url)
    if location.transport == .local {
      throw GitRAGError(
        "Remote \"\(remote)\" is a path on this machine (\(url)), which a container cannot clone. Push to a server it can reach, or use --runtime local."
      )
    }
    guard let branch = repository.headBranchName(), !repository.isHeadDetached else {
      throw GitRAGError("HEAD is detached: check out the branch to index (it must be pushed to \(remote)), then submit again.")
    }
    let head = try commit.map { try repository.resolve($0) } ?? repository.head()
    guard let pushed = try? repository.resolve("refs/remotes/\(remote)/\(branch)") else {
      throw GitRAGError(
        "Branch \(branch) is not on \(remote) (no refs/remotes/\(remote)/\(branch)): run `git push \(remote) \(branch)`, then submit again."
      )
    }
    let (ahead, _) = try repository.aheadBehind(local: head, upstream: pushed)
    guard ahead == 0 else {
      throw GitRAGError(
        "\(String(head.hex.prefix(12))) has \(ahead) commit\(ahead == 1 ? "" : "s") not pushed to \(remote)/\(branch), and the job clones from \(remote): run `git push \(remote) \(branch)`, then submit again."
      )
    }
    return [location.redacted, collection, "--branch", branch, "--commit", head.hex]
  }
}

/// `git-rag worker <operation> <args>`: the container entry point. Configuration comes from the
/// environment (the image has no git config of its own).
struct WorkerCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "worker",
    abstract: "Run one job operation (sync, upload-file, upload-repo, upload-archive, collection): the container entry point."
  )

  @Argument(help: "sync, upload-file, upload-repo, upload-archive or collection.")
  var operation: String

  @Argument(parsing: .captureForPassthrough, help: "The operation's arguments.")
  var arguments: [String] = []

  func run() async throws {
    guard let op = JobOperation(rawValue: operation) else {
      throw GitRAGError(
        "Unknown worker operation \"\(operation)\". Use sync, upload-file, upload-repo, upload-archive or collection.", exitCode: 2)
    }
    let command: [String] =
      switch op {
      case .sync: ["sync"]
      case .uploadFile: ["upload", "file"]
      case .uploadRepo: ["upload", "repo"]
      case .uploadArchive: ["upload", "archive"]
      case .collection: ["collection"]
      }
    // A worker runs here: never submit again.
    let code = await GitRAGCommand.runMain(command + RuntimeOptions.jobArguments(arguments))
    if code != 0 { throw ExitCode(code) }
  }
}
