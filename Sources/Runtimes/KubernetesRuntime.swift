import Foundation

/// Runs a job as a Kubernetes `batch/v1` Job, applied with `kubectl apply -f -`.
///
/// Secret variables (see `Job.isSecret`) are referenced from a Kubernetes Secret
/// (`secretKeyRef`, key = variable name), never copied into the manifest; other forwarded
/// variables are copied by value from the submitting environment. Create the secret first, e.g.
/// `kubectl create secret generic git-rag --from-literal=API_TOKEN=… --from-literal=QDRANT_API_KEY=…`.
public struct KubernetesRuntime: JobRuntime {
  public struct Configuration: Sendable, Hashable {
    public var image: String
    public var namespace: String
    public var serviceAccountName: String?
    public var imagePullSecrets: [String]
    /// The Kubernetes Secret holding secret variables, one key per variable name.
    public var secretName: String
    public var backoffLimit: Int
    public var ttlSecondsAfterFinished: Int
    /// Seconds between status checks while waiting.
    public var pollInterval: Double
    /// How long `kubectl logs -f` waits for the pod to start.
    public var podStartTimeout: String

    public init(
      image: String = "git-rag:latest", namespace: String = "default", serviceAccountName: String? = nil,
      imagePullSecrets: [String] = [], secretName: String = "git-rag", backoffLimit: Int = 2,
      ttlSecondsAfterFinished: Int = 3600, pollInterval: Double = 2, podStartTimeout: String = "5m"
    ) {
      self.image = image
      self.namespace = namespace
      self.serviceAccountName = serviceAccountName
      self.imagePullSecrets = imagePullSecrets
      self.secretName = secretName
      self.backoffLimit = backoffLimit
      self.ttlSecondsAfterFinished = ttlSecondsAfterFinished
      self.pollInterval = pollInterval
      self.podStartTimeout = podStartTimeout
    }
  }

  public var configuration: Configuration
  let tools: ToolProcess

  public init(configuration: Configuration = Configuration(), environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.configuration = configuration
    tools = ToolProcess(environment: environment)
  }

  /// The Job manifest as a JSON object (JSON is valid YAML for kubectl).
  func manifestObject(for job: Job) -> [String: Any] {
    let labels: [String: Any] = [
      "app.kubernetes.io/name": "git-rag", "app.kubernetes.io/component": "worker",
      "git-rag/operation": job.operation.rawValue,
    ]
    var env: [[String: Any]] = []
    for name in job.forwardEnvironment {
      if Job.isSecret(name) {
        // Optional: the Secret holds only the keys its users need (no GITHUB_TOKEN for public repositories).
        env.append(["name": name, "valueFrom": ["secretKeyRef": ["name": configuration.secretName, "key": name, "optional": true]]])
      } else if let value = tools.environment[name] {
        env.append(["name": name, "value": value])
      }
    }
    var container: [String: Any] = [
      "name": "git-rag", "image": configuration.image, "args": [job.operation.rawValue] + job.arguments,
    ]
    if !env.isEmpty { container["env"] = env }
    var quantities: [String: Any] = [:]
    if let cpu = job.resources.cpuQuantity { quantities["cpu"] = cpu }
    if let memory = job.resources.memoryMiB { quantities["memory"] = "\(memory)Mi" }
    if !quantities.isEmpty { container["resources"] = ["requests": quantities, "limits": quantities] }
    var podSpec: [String: Any] = ["restartPolicy": "Never", "containers": [container]]
    if let account = configuration.serviceAccountName { podSpec["serviceAccountName"] = account }
    if !configuration.imagePullSecrets.isEmpty {
      podSpec["imagePullSecrets"] = configuration.imagePullSecrets.map { ["name": $0] }
    }
    return [
      "apiVersion": "batch/v1", "kind": "Job",
      "metadata": ["name": job.name, "namespace": configuration.namespace, "labels": labels],
      "spec": [
        "backoffLimit": configuration.backoffLimit,
        "ttlSecondsAfterFinished": configuration.ttlSecondsAfterFinished,
        "template": ["metadata": ["labels": labels], "spec": podSpec],
      ],
    ]
  }

  /// The manifest text: pretty, sorted JSON.
  public func manifest(for job: Job) throws -> String {
    try job.refuseCredentialsInURLs(environment: tools.environment)
    let data = try JSONSerialization.data(
      withJSONObject: manifestObject(for: job), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  public func plan(_ job: Job) throws -> JobSubmission {
    .manifest(tool: ["kubectl", "apply", "-f", "-"], text: try manifest(for: job))
  }

  public func submit(_ job: Job, wait: Bool) async throws -> JobOutcome {
    guard let kubectl = tools.locate("kubectl") else {
      throw JobError.toolNotFound(
        tool: "kubectl",
        hint: "Install kubectl (https://kubernetes.io/docs/tasks/tools/) and point it at your cluster, or use --runtime docker.")
    }
    let ns = configuration.namespace
    let applied = try await tools.run(kubectl, ["apply", "-f", "-"], input: Data(try manifest(for: job).utf8), capture: true)
    guard applied.status == 0 else {
      throw JobError.toolFailed(command: "kubectl apply -f -", status: applied.status, output: applied.stderr + applied.stdout)
    }
    guard wait else { return JobOutcome(id: job.name, status: .submitted) }

    // Follow the logs while the pod runs; a failure here (pod gone, logs unavailable) is not the
    // job's failure, so the verdict comes from the Job's conditions below.
    _ = try await tools.run(
      kubectl, ["logs", "-f", "-n", ns, "--pod-running-timeout=\(configuration.podStartTimeout)", "job/\(job.name)"], capture: false)
    while true {
      let conditions = try await tools.run(
        kubectl,
        ["get", "job", job.name, "-n", ns, "-o", #"jsonpath={.status.conditions[?(@.status=="True")].type}"#], capture: true)
      guard conditions.status == 0 else {
        throw JobError.toolFailed(command: "kubectl get job \(job.name)", status: conditions.status, output: conditions.stderr)
      }
      let types = conditions.stdout.split(separator: " ").map(String.init)
      if types.contains("Failed") {
        return JobOutcome(id: job.name, status: .failed(reason: "the Kubernetes Job failed (kubectl describe job/\(job.name) -n \(ns))"))
      }
      if types.contains("Complete") { return JobOutcome(id: job.name, status: .succeeded, exitCode: 0) }
      try await Task.sleep(nanoseconds: UInt64(configuration.pollInterval * 1_000_000_000))
    }
  }
}
