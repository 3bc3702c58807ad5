import ArgumentParser
import Foundation
import GitRAGCore
import GitRAGKit
import Jobs

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
  @Option(name: .customLong("secret-name"), help: "Kubernetes secret holding API_TOKEN, QDRANT_API_KEY, GITHUB_TOKEN.") var secretName: String?
  @Option(name: .customLong("job-queue"), help: ArgumentHelp(Setting.jobQueue.help)) var jobQueue: String?
  @Option(name: .customLong("job-definition"), help: ArgumentHelp(Setting.jobDefinition.help)) var jobDefinition: String?
  @Option(help: "CPU for the job, e.g. 2 or 500m.") var cpu: String?
  @Option(help: "Memory for the job, e.g. 4Gi or 2048Mi.") var memory: String?
  @Option(name: .customLong("env"), help: "Environment variable to forward by name (repeatable; default: the ones git-rag reads).") var env: [String] = []

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

  /// Builds the job, then prints it (`--print`) or submits it and reports the outcome.
  func submit(operation: JobOperation, arguments: [String], settings: SettingsResolver) async throws {
    guard let runtimeName = runtime else { return }
    let job = Job(
      operation: operation, arguments: Self.jobArguments(arguments),
      forwardEnvironment: env.isEmpty ? Job.standardEnvironment : env,
      resources: try JobResources(cpu: cpu, memory: memory))
    let environment = ProcessInfo.processInfo.environment
    let image = settings.value(.image, flag: image) ?? "git-rag:latest"
    let runtime: any JobRuntime
    switch runtimeName {
    case "local":
      runtime = LocalRuntime(environment: environment)
    case "docker":
      runtime = DockerRuntime(configuration: .init(image: image, network: network, volumes: volume), environment: environment)
    case "kubernetes", "k8s":
      runtime = KubernetesRuntime(
        configuration: .init(
          image: image, namespace: namespace ?? "default", serviceAccountName: serviceAccount,
          imagePullSecrets: imagePullSecret, secretName: secretName ?? "git-rag"),
        environment: environment)
    case "aws-batch", "batch":
      guard let queue = settings.value(.jobQueue, flag: jobQueue),
        let definition = settings.value(.jobDefinition, flag: jobDefinition)
      else {
        throw GitRAGError("AWS Batch needs a job queue and a job definition: pass --job-queue and --job-definition (or set rag.jobQueue and rag.jobDefinition).", exitCode: 2)
      }
      runtime = AWSBatchRuntime(configuration: .init(jobQueue: queue, jobDefinition: definition), environment: environment)
    default:
      throw GitRAGError("Unknown runtime \"\(runtimeName)\". Use --runtime local, docker, kubernetes or aws-batch.", exitCode: 2)
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
      throw GitRAGError("Unknown worker operation \"\(operation)\". Use sync, upload-file, upload-repo, upload-archive or collection.", exitCode: 2)
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
